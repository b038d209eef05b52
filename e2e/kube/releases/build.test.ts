import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseReleases, releaseMain } from './build.js';

const COMMIT = 'bd8a9c8ad37f986a18ce07dbfd403ef5ad3f720e';

describe('releases.json', () => {
  it('names each earlier release by version and full commit id', () => {
    const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'releases.json');
    const releases = parseReleases(JSON.parse(readFileSync(file, 'utf8')) as unknown);
    expect(releases.map((r) => r.version)).toContain('0.1.0');
    expect(releases.every((r) => /^[0-9a-f]{40}$/.test(r.commit))).toBe(true);
  });

  it('refuses what it cannot build from, naming the entry', () => {
    expect(() => parseReleases({})).toThrow('releases.json: missing "releases" array');
    expect(() => parseReleases({ releases: [{ version: '0.1', commit: COMMIT }] })).toThrow(
      'releases[0].version must be major.minor.patch',
    );
    expect(() => parseReleases({ releases: [{ version: '0.1.0', commit: 'bd8a9c8' }] })).toThrow(
      'releases[0].commit must be a full 40-digit commit id',
    );
  });

  it('puts a release where images.json runs it', () => {
    const table = JSON.parse(
      readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../images.json'), 'utf8'),
    ) as { images: Record<string, { argv: string[] }> };
    const argv = table.images['raftstore/node:0.1.0']?.argv ?? [];
    expect(releaseMain('0.1.0').endsWith(argv[1]!.replace('${REPO}/', ''))).toBe(true);
  });
});
