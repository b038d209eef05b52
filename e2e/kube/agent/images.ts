// Image references map to local commands (we have no container runtime): see e2e/kube/images.json.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

export interface ImageEntry {
  /** Entrypoint; replaced by the container's `command` when it has one. */
  argv: string[];
  cwd?: string;
  env?: Record<string, string>;
}

export interface ImageTable {
  images: Record<string, ImageEntry>;
}

export interface ResolvedCommand {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  /** A stable digest of the mapping, reported as the container's imageID. */
  imageID: string;
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

/** Validates the parsed images.json so a typo fails at start-up with the offending key, not at pod start. */
export function parseImageTable(json: unknown): ImageTable {
  if (typeof json !== 'object' || json === null || !('images' in json))
    throw new Error('images.json: missing "images" object');
  const images = json.images;
  if (typeof images !== 'object' || images === null)
    throw new Error('images.json: "images" must be an object');
  const out: Record<string, ImageEntry> = {};
  for (const [ref, raw] of Object.entries(images as Record<string, unknown>)) {
    if (typeof raw !== 'object' || raw === null)
      throw new Error(`images.json: ${ref}: entry must be an object`);
    const e = raw as Record<string, unknown>;
    if (!isStringArray(e.argv)) throw new Error(`images.json: ${ref}: argv must be an array of strings`);
    if (e.cwd !== undefined && typeof e.cwd !== 'string')
      throw new Error(`images.json: ${ref}: cwd must be a string`);
    if (
      e.env !== undefined &&
      (typeof e.env !== 'object' ||
        e.env === null ||
        !Object.values(e.env).every((v) => typeof v === 'string'))
    )
      throw new Error(`images.json: ${ref}: env must map names to strings`);
    out[ref] = {
      argv: e.argv,
      ...(e.cwd === undefined ? {} : { cwd: e.cwd }),
      ...(e.env === undefined ? {} : { env: e.env as Record<string, string> }),
    };
  }
  return { images: out };
}

export function loadImageTable(file: string): ImageTable {
  return parseImageTable(JSON.parse(readFileSync(file, 'utf8')) as unknown);
}

function expand(s: string, repo: string): string {
  return s.replaceAll('${REPO}', repo);
}

/** Docker Hub style short names: `docker.io/library/x:1` and `x:1` are the same image; a missing tag means latest. */
export function normaliseImageRef(ref: string): string {
  let r = ref.trim();
  for (const prefix of ['docker.io/library/', 'docker.io/', 'index.docker.io/']) {
    if (r.startsWith(prefix)) r = r.slice(prefix.length);
  }
  const lastSlash = r.lastIndexOf('/');
  if (!r.includes('@') && !r.slice(lastSlash + 1).includes(':')) r += ':latest';
  return r;
}

/** Returns undefined for an unknown image (the caller reports ErrImagePull). */
export function resolveImage(
  table: ImageTable,
  image: string,
  repo: string,
  command: string[] | undefined,
  args: string[] | undefined,
): ResolvedCommand | undefined {
  const want = normaliseImageRef(image);
  const key = Object.keys(table.images).find((k) => normaliseImageRef(k) === want);
  if (key === undefined) return undefined;
  const entry = table.images[key];
  if (entry === undefined) return undefined;
  const base = command !== undefined && command.length > 0 ? command : entry.argv.map((a) => expand(a, repo));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(entry.env ?? {})) env[k] = expand(v, repo);
  const digest = createHash('sha256').update(JSON.stringify({ key, entry })).digest('hex');
  return {
    argv: [...base, ...(args ?? [])],
    cwd: expand(entry.cwd ?? '/', repo),
    env,
    imageID: `local://${key}@sha256:${digest}`,
  };
}
