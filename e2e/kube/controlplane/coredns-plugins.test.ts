import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { corefile } from './components.js';

const PLUGINS_FILE = join(dirname(fileURLToPath(import.meta.url)), 'coredns.plugins');

/** The directive names build.sh compiles into CoreDNS (coredns.plugins without comments and blank lines). */
function builtPlugins(): string[] {
  return readFileSync(PLUGINS_FILE, 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => l !== '');
}

/** The directives of a Corefile's server blocks: the first word of each line directly inside a `{ }` block. */
function directives(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  for (const line of text.split('\n')) {
    const word = line.trim().split(/\s+/)[0] ?? '';
    if (depth === 1 && word !== '' && word !== '}') out.push(word);
    depth += (line.match(/{/g) ?? []).length - (line.match(/}/g) ?? []).length;
  }
  return out;
}

describe('the CoreDNS build and the Corefile kube:up writes', () => {
  it('parses directives of the server block only', () => {
    expect(directives('.:53 {\n  errors\n  kubernetes x {\n    ttl 5\n  }\n  cache 5\n}\n')).toEqual([
      'errors',
      'kubernetes',
      'cache',
    ]);
  });

  it('compiles in every plugin the Corefile uses (a missing one would make CoreDNS refuse the file)', () => {
    const used = directives(corefile('/state/coredns.kubeconfig'));
    expect(used).toEqual(expect.arrayContaining(['kubernetes', 'ready', 'health']));
    expect(used.filter((d) => !builtPlugins().includes(d))).toEqual([]);
  });

  it('names each plugin once', () => {
    expect(new Set(builtPlugins()).size).toBe(builtPlugins().length);
  });
});
