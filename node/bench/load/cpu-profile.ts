// Summarises V8 .cpuprofile files (written by node --cpu-prof): self time per function, hottest first.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** An interval on the monotonic clock, in microseconds. */
export interface ProfileWindow {
  readonly from_us: number;
  readonly to_us: number;
}

/**
 * The monotonic clock in microseconds. V8 stamps cpu profiles (startTime, timeDeltas) with the same clock
 * (CLOCK_MONOTONIC on Linux), so a member's profile can be cut to a window the driver measured.
 */
export function monotonic_us(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
export interface CpuProfile {
  nodes: ProfileNode[];
  /** Monotonic clock, µs. */
  startTime: number;
  endTime: number;
  /** The node id of each sample, and the µs since the previous sample (the first: since startTime). */
  samples?: number[];
  timeDeltas?: number[];
}

export interface HotFunction {
  readonly name: string;
  readonly self_pct: number;
  readonly self_ms: number;
}

export interface ProfileSummary {
  /** Wall time profiled, summed over the profiles. */
  readonly total_ms: number;
  readonly idle_pct: number;
  /** Busy (not idle) time, summed over the profiles. */
  readonly busy_ms: number;
  /** Hottest functions by self time, as a share of busy time. */
  readonly hot: HotFunction[];
  /** The same self time grouped by where the code lives: a package, a folder of this repository, a Node module. */
  readonly modules: HotFunction[];
}

/** Where a function's code lives: the npm package, the repository folder, the Node module, or V8's own label. */
export function moduleOf(url: string, functionName: string, repoRoot: string): string {
  if (url === '') return functionName || '(native)';
  if (url.startsWith('node:')) return url;
  const path = url.startsWith('file://') ? url.slice('file://'.length) : url;
  const nm = path.lastIndexOf('/node_modules/');
  if (nm !== -1) {
    const parts = path.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const rel = relative(repoRoot, path);
  return rel.startsWith('..') ? path : rel.slice(0, Math.max(0, rel.lastIndexOf('/'))) || rel;
}

function ranked(ms: Map<string, number>, busy_ms: number, top: number): HotFunction[] {
  return [...ms.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, self_ms]) => ({ name, self_pct: (100 * self_ms) / Math.max(1e-9, busy_ms), self_ms }));
}

/** Samples per node id within the windows, and the wall time they cover; the whole profile without windows. */
function hitsWithin(
  profile: CpuProfile,
  windows: readonly ProfileWindow[] | undefined,
): { hits: Map<number, number>; wall_ms: number } {
  const hits = new Map<number, number>();
  if (windows === undefined) {
    for (const n of profile.nodes) if (n.hitCount) hits.set(n.id, n.hitCount);
    return { hits, wall_ms: (profile.endTime - profile.startTime) / 1000 };
  }
  const { samples, timeDeltas } = profile;
  if (!samples || !timeDeltas || samples.length !== timeDeltas.length)
    throw new Error('a cpu profile without sample times cannot be cut to windows');
  let t = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    t += timeDeltas[i]!;
    if (windows.some((w) => t >= w.from_us && t < w.to_us))
      hits.set(samples[i]!, (hits.get(samples[i]!) ?? 0) + 1);
  }
  let wall_us = 0;
  for (const w of windows)
    wall_us += Math.max(0, Math.min(w.to_us, profile.endTime) - Math.max(w.from_us, profile.startTime));
  return { hits, wall_ms: wall_us / 1000 };
}

/**
 * Self time per function and per module, summed over profiles (e.g. every member of a cluster), as a share of
 * busy time ((idle) excluded, reported apart as idle_pct). A sample of a profile is worth its own interval. With
 * `windows` (monotonic µs, the clock of the profiles' own timestamps), only samples taken inside them count.
 */
export function summarizeProfiles(
  profiles: readonly CpuProfile[],
  top: number,
  repoRoot: string,
  windows?: readonly ProfileWindow[],
): ProfileSummary {
  const fns = new Map<string, number>();
  const modules = new Map<string, number>();
  let total_ms = 0;
  let idle_ms = 0;
  for (const profile of profiles) {
    if (!Array.isArray(profile.nodes)) throw new Error('not a V8 cpu profile');
    const { hits, wall_ms } = hitsWithin(profile, windows);
    const samples = [...hits.values()].reduce((sum, h) => sum + h, 0);
    total_ms += wall_ms;
    const perSample_ms = wall_ms / Math.max(1, samples);
    for (const n of profile.nodes) {
      const h = hits.get(n.id) ?? 0;
      if (h === 0) continue;
      const { functionName, url, lineNumber } = n.callFrame;
      if (functionName === '(idle)' && url === '') {
        idle_ms += h * perSample_ms;
        continue;
      }
      const where = url.startsWith('file://') ? relative(repoRoot, url.slice('file://'.length)) : url;
      const key = `${functionName || '(anonymous)'} ${where ? `${where}:${lineNumber + 1}` : ''}`.trim();
      fns.set(key, (fns.get(key) ?? 0) + h * perSample_ms);
      const mod = moduleOf(url, functionName, repoRoot);
      modules.set(mod, (modules.get(mod) ?? 0) + h * perSample_ms);
    }
  }
  const busy_ms = total_ms - idle_ms;
  return {
    total_ms,
    idle_pct: (100 * idle_ms) / Math.max(1e-9, total_ms),
    busy_ms,
    hot: ranked(fns, busy_ms, top),
    modules: ranked(modules, busy_ms, top),
  };
}

function readProfile(file: string): CpuProfile {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  if (!Array.isArray(profile.nodes)) throw new Error(`${file} is not a V8 cpu profile`);
  return profile;
}

/** Self time per function of one profile file as a share of busy time ((idle) excluded, reported apart). */
export function summarizeProfile(file: string, top: number, repoRoot: string): ProfileSummary {
  return summarizeProfiles([readProfile(file)], top, repoRoot);
}

/** The same, summed over several profile files, optionally cut to windows (see summarizeProfiles). */
export function summarizeProfileFiles(
  files: readonly string[],
  top: number,
  repoRoot: string,
  windows?: readonly ProfileWindow[],
): ProfileSummary {
  return summarizeProfiles(files.map(readProfile), top, repoRoot, windows);
}

/** The profiles in dir, largest (the busiest member, normally the leader) first. */
export function profilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).size - statSync(a).size);
}
