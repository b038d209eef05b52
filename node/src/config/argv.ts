// Splits the command line into flag -> raw value, without interpreting values (that is the parsers' job). Accepted
// forms: `--flag=value`, `--flag value`, and a bare `--flag` for booleans. Everything else is reported, never
// skipped: a stray positional argument usually means a flag lost its `--`, and silently ignoring it would start the
// member with a default the user did not intend.

import type { ConfigProblem } from './config-error.js';

export interface FlagInfo {
  readonly env: string;
  readonly isBoolean: boolean;
}

export interface SplitArgv {
  /** Raw values by flag (`--name`), for flags given exactly once. */
  readonly values: ReadonlyMap<string, string>;
  readonly problems: readonly ConfigProblem[];
  readonly help: boolean;
}

export const HELP_FLAGS: readonly string[] = ['--help', '-h'];

/** Bounds the work done on a hostile or runaway command line; ours has 25 flags. */
export const MAX_ARGS = 256;

export function splitArgv(argv: readonly string[], flags: ReadonlyMap<string, FlagInfo>): SplitArgv {
  const values = new Map<string, string>();
  const problems: ConfigProblem[] = [];
  let help = false;
  if (argv.length > MAX_ARGS) {
    return {
      values,
      help,
      problems: [
        {
          flag: 'command line',
          envVar: '',
          expected: `too many arguments (${argv.length}; at most ${MAX_ARGS})`,
        },
      ],
    };
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (HELP_FLAGS.includes(arg)) {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      problems.push({
        flag: arg,
        envVar: '',
        expected: 'unexpected argument: flags start with --, and values follow --flag= or --flag',
      });
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const info = flags.get(flag);
    if (info === undefined) {
      const near = nearestFlag(flag, [...flags.keys()]);
      const hint = near === undefined ? '' : `; did you mean ${near} (${flags.get(near)?.env ?? ''})?`;
      problems.push({ flag, envVar: '', expected: `unknown flag (see --help)${hint}` });
      continue;
    }
    let value: string;
    if (eq >= 0) {
      value = arg.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--') && !HELP_FLAGS.includes(next)) {
        value = next;
        i++;
      } else if (info.isBoolean) {
        value = 'true';
      } else {
        problems.push({
          flag,
          envVar: info.env,
          expected: `missing value: use ${flag}=VALUE or ${flag} VALUE`,
        });
        continue;
      }
    }
    const earlier = values.get(flag);
    if (earlier !== undefined) {
      problems.push({
        flag,
        envVar: info.env,
        value,
        source: 'flag',
        expected: `the flag at most once (it was already given as ${JSON.stringify(earlier)})`,
      });
      continue;
    }
    values.set(flag, value);
  }
  return { values, problems, help };
}

/** The known flag closest to a mistyped one, if close enough to be a plausible typo. */
function nearestFlag(typed: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(typed.length / 4)) + 1;
  for (const k of known) {
    const d = editDistance(typed, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance, bounded: an argument over 64 characters is no typo of one of our flags. */
function editDistance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Math.abs(a.length - b.length) + 64;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
