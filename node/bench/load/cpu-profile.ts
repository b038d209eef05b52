// Summarises V8 .cpuprofile files (written by node --cpu-prof): self time per function, hottest first.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
}

export interface HotFunction {
  readonly name: string;
  readonly self_pct: number;
  readonly self_ms: number;
}

/** Self time per function as a share of busy time ((idle) excluded, reported apart as idle_pct). */
export function summarizeProfile(
  file: string,
  top: number,
  repoRoot: string,
): { total_ms: number; idle_pct: number; hot: HotFunction[] } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  if (!Array.isArray(profile.nodes)) throw new Error(`${file} is not a V8 cpu profile`);
  const hits = new Map<string, number>();
  let total = 0;
  for (const n of profile.nodes) {
    const h = n.hitCount ?? 0;
    if (h === 0) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    const where = url.startsWith('file://') ? relative(repoRoot, url.slice('file://'.length)) : url;
    const key = `${functionName || '(anonymous)'} ${where ? `${where}:${lineNumber + 1}` : ''}`.trim();
    hits.set(key, (hits.get(key) ?? 0) + h);
    total += h;
  }
  const total_ms = (profile.endTime - profile.startTime) / 1000;
  const idle = hits.get('(idle)') ?? 0;
  hits.delete('(idle)');
  const busy = Math.max(1, total - idle);
  const hot = [...hits.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, h]) => ({ name, self_pct: (100 * h) / busy, self_ms: (total_ms * h) / Math.max(1, total) }));
  return { total_ms, idle_pct: (100 * idle) / Math.max(1, total), hot };
}

/** The profiles in dir, largest (the busiest member, normally the leader) first. */
export function profilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).size - statSync(a).size);
}
