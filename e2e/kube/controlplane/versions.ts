// Reads versions.env (the pins build.sh sources) so TypeScript finds the same binaries cache directory.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const VERSIONS_FILE = join(dirname(fileURLToPath(import.meta.url)), 'versions.env');

/** Parses `KEY=value` lines; `#` comments and blank lines are skipped; anything else is an error. */
export function parseVersions(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^([A-Z][A-Z0-9_]*)=(v[0-9][0-9A-Za-z.+-]*)$/.exec(line);
    if (!m) throw new Error(`versions.env line ${i + 1}: expected KEY=vX.Y.Z, got "${line}"`);
    out[m[1] as string] = m[2] as string;
  });
  return out;
}

export function kubernetesVersion(file: string = VERSIONS_FILE): string {
  const v = parseVersions(readFileSync(file, 'utf8'))['K8S_VERSION'];
  if (v === undefined) throw new Error(`${file} has no K8S_VERSION`);
  return v;
}
