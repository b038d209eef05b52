// A configuration error lists every problem at once: a member that fails to start because of its flags is fixed by
// a human editing a manifest, and one round trip per typo makes that slow. Each problem names both spellings of the
// setting (flag and environment variable) because the operator may have set either.

/** Where a raw value came from; `default` values are validated too, so a bad built-in default is caught in tests. */
export type ValueSource = 'flag' | 'env' | 'default';

export interface ConfigProblem {
  /** The flag as typed on the command line, e.g. `--shard`; for an unknown argument, the argument itself. */
  readonly flag: string;
  /** The environment variable of the same setting, e.g. `RAFTSTORE_SHARD`; empty when there is none. */
  readonly envVar: string;
  /** The offending raw value, when there is one (a missing required setting has none). */
  readonly value?: string;
  readonly source?: ValueSource;
  /**
   * What was expected instead, as a phrase a user can act on. Without a value it is shown on its own, so it is then
   * a whole statement ("required: set --name or RAFTSTORE_NAME").
   */
  readonly expected: string;
}

/** Renders one problem as a single line: `--shard (RAFTSTORE_SHARD): got "x" from the flag; expected ...`. */
export function describeProblem(p: ConfigProblem): string {
  const names = p.envVar === '' ? p.flag : `${p.flag} (${p.envVar})`;
  if (p.value === undefined) return `${names}: ${p.expected}`;
  return `${names}: got ${JSON.stringify(p.value)} ${sourcePhrase(p)}; expected ${p.expected}`;
}

function sourcePhrase(p: ConfigProblem): string {
  switch (p.source) {
    case 'flag':
      return `from ${p.flag}`;
    case 'env':
      return `from environment variable ${p.envVar}`;
    case 'default':
      return 'as the built-in default';
    case undefined:
      return 'on the command line';
  }
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    if (problems.length === 0) throw new Error('ConfigError needs at least one problem');
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    const lines = problems.map((p) => `  - ${describeProblem(p)}`);
    super(`invalid configuration (${count}):\n${lines.join('\n')}\nRun with --help to list every flag.`);
    this.problems = problems;
  }
}
