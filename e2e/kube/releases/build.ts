// npm run releases:build: builds each earlier release of releases.json from its commit of this repository, so the
// e2e suites upgrade and downgrade between genuinely different builds. A release is the node's sources of that
// commit compiled with this checkout's TypeScript and dependencies (the lockfile's runtime dependencies are the same;
// a release that needs others would say so by failing to compile). Built once: a stamp names the commit it holds.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const RELEASES_DIR = path.join(REPO, '.releases');
/** What a release needs of its commit: the node (sources and generated API) and the configuration to compile it. */
const RELEASE_PATHS = ['node', 'package.json', 'tsconfig.json', 'tsconfig.build.json'];

export interface Release {
  version: string;
  commit: string;
  about: string;
}

export function parseReleases(json: unknown): Release[] {
  const list = (json as { releases?: unknown } | null)?.releases;
  if (!Array.isArray(list)) throw new Error('releases.json: missing "releases" array');
  return list.map((r: unknown, i) => {
    const e = r as Partial<Record<keyof Release, unknown>>;
    if (typeof e.version !== 'string' || !/^\d+\.\d+\.\d+$/.test(e.version))
      throw new Error(`releases.json: releases[${i}].version must be major.minor.patch`);
    if (typeof e.commit !== 'string' || !/^[0-9a-f]{40}$/.test(e.commit))
      throw new Error(`releases.json: releases[${i}].commit must be a full 40-digit commit id`);
    return { version: e.version, commit: e.commit, about: typeof e.about === 'string' ? e.about : '' };
  });
}

/** Where a release's entry point lands (what images.json runs). */
export function releaseMain(version: string): string {
  return path.join(RELEASES_DIR, version, 'dist', 'node', 'src', 'main.js');
}

function git(args: string[]): string {
  return execFileSync('git', ['-C', REPO, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function build(release: Release): void {
  const dir = path.join(RELEASES_DIR, release.version);
  const stamp = path.join(dir, '.commit');
  if (
    existsSync(releaseMain(release.version)) &&
    existsSync(stamp) &&
    readFileSync(stamp, 'utf8') === release.commit
  ) {
    process.stdout.write(`releases: ${release.version} is built (${release.commit.slice(0, 12)})\n`);
    return;
  }
  try {
    git(['cat-file', '-e', `${release.commit}^{commit}`]);
  } catch {
    throw new Error(
      `releases: ${release.version} is built from commit ${release.commit}, which this clone does not have ` +
        '(a shallow clone lacks history: fetch it with `git fetch --unshallow`)',
    );
  }
  const started = performance.now();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const tar = execFileSync('git', ['-C', REPO, 'archive', '--format=tar', release.commit, ...RELEASE_PATHS], {
    maxBuffer: 512 * 1024 * 1024,
  });
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  // The node only: its own sources at that commit, compiled as that commit's build configuration says.
  writeFileSync(
    path.join(dir, 'tsconfig.release.json'),
    JSON.stringify(
      { extends: './tsconfig.build.json', include: ['node/src/**/*.ts', 'node/shared/**/*.ts'] },
      null,
      2,
    ),
  );
  execFileSync(
    path.join(REPO, 'node_modules', '.bin', 'tsc'),
    ['-p', path.join(dir, 'tsconfig.release.json')],
    {
      cwd: dir,
      stdio: 'inherit',
    },
  );
  if (!existsSync(releaseMain(release.version)))
    throw new Error(`releases: ${release.version} compiled but ${releaseMain(release.version)} is missing`);
  writeFileSync(stamp, release.commit);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    `releases: built ${release.version} from ${release.commit.slice(0, 12)} in ${seconds} s\n`,
  );
}

function main(): void {
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'releases.json');
  for (const release of parseReleases(JSON.parse(readFileSync(file, 'utf8')) as unknown)) build(release);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
