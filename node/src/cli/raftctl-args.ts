// Parsing of raftctl's command line into a typed command. Pure, so every form and every error is unit-tested.
import {
  transportSecurity,
  TransportSecurityError,
  type TransportSecurity,
} from '../../shared/security/transport-security.js';

export type OutputFormat = 'table' | 'json';

export interface GlobalOptions {
  readonly endpoints: readonly string[];
  /** Unset: keys are routed by slot (any member answers) and scans fan out over every shard. */
  readonly shard: number | undefined;
  readonly timeoutMs: number;
  readonly output: OutputFormat;
  /** Mutual TLS (all three files) or plaintext (none). */
  readonly security: TransportSecurity;
}

export type RaftctlCommand =
  | { readonly kind: 'put'; readonly key: string; readonly value: string }
  | { readonly kind: 'get'; readonly key: string; readonly serializable: boolean }
  | { readonly kind: 'del'; readonly key: string; readonly prefix: boolean }
  | {
      readonly kind: 'range';
      readonly start: string;
      readonly end?: string;
      readonly prefix: boolean;
      readonly limit: number;
      readonly keysOnly: boolean;
      readonly serializable: boolean;
    }
  | { readonly kind: 'txn'; readonly file: string }
  | { readonly kind: 'memberList' }
  | {
      readonly kind: 'memberAdd';
      readonly name: string;
      readonly id: string;
      readonly peerUrl: string;
      readonly clientUrl: string;
    }
  | { readonly kind: 'memberPromote'; readonly id: string }
  | { readonly kind: 'memberRemove'; readonly id: string }
  | { readonly kind: 'memberForceNewCluster'; readonly name: string }
  | { readonly kind: 'transferLeader'; readonly to: string }
  | { readonly kind: 'status' }
  | { readonly kind: 'snapshot' }
  | { readonly kind: 'dataFormatSet'; readonly format: number }
  | { readonly kind: 'help' };

/** Data formats travel as one byte in the log: anything larger cannot be one. */
const MAX_WIRE_DATA_FORMAT = 255;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `raftctl — command-line client for raftstore

Usage: raftctl [global options] <command> [arguments]

Global options:
  --endpoints host:port[,host:port…]   members to talk to (env RAFTCTL_ENDPOINTS; default 127.0.0.1:2379)
  --shard N                            ask only this shard (Raft group); default: keys are routed by their
                                       hash slot and prefix/interval reads and deletes cover every shard.
                                       Member commands (member list, status, ...) use shard 0 unless set
  --timeout DURATION                   per-request timeout, e.g. 500ms, 5s (default 5s)
  --cacert FILE --cert FILE --key FILE mutual TLS: the cluster's CA certificate, and raftctl's certificate and
                                       key (env RAFTCTL_CACERT, RAFTCTL_CERT, RAFTCTL_KEY; all three or none)
  -w, --write-out table|json           output format (default table)

Commands:
  put KEY VALUE                        write a key
  get KEY [--serializable]             read a key (linearizable unless --serializable)
  del KEY [--prefix]                   delete a key, or every key with the prefix
  range START [END] [--prefix] [--limit N] [--keys-only] [--serializable]
                                       list keys in [START, END), or with prefix START
  txn FILE|-                           run a transaction given as JSON (see README)
  member list                          members with role, match index and lag
  member add NAME --id ID --peer-url HOST:PORT --client-url HOST:PORT
                                       add a member as a learner
  member promote ID                    make a caught-up learner a voter
  member remove ID                     remove a member
  member force-new-cluster NAME        after a permanent loss of quorum: member NAME (the one endpoint given;
                                       pick the one with the highest last term, then last index, in status)
                                       keeps its committed log and restarts as the only voter of its group
  transfer-leader [MEMBER-ID]          hand leadership to a member (default: the most caught-up voter)
  status                               status of every endpoint, with the data format its group writes and
                                       the newest one its build reads
  snapshot                             make the answering member take a snapshot now
  data-format set N                    set the data format the group writes: raising it needs every member to
                                       read N (upgrade them first); lower it before downgrading

Exit status: 0 on success, 1 on any failure (the reason is printed on stderr).`;

export function parseDurationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text);
  if (!m) throw new UsageError(`invalid duration "${text}" (examples: 500ms, 5s, 1m)`);
  const value = Number(m[1]);
  const unit = m[2] ?? 's';
  const ms = unit === 'ms' ? value : unit === 's' ? value * 1000 : value * 60_000;
  if (!(ms > 0)) throw new UsageError(`duration must be positive, got "${text}"`);
  return Math.round(ms);
}

function positiveInt(text: string | undefined, flag: string, allowZero = false): number {
  const n = Number(text);
  if (text === undefined || !Number.isSafeInteger(n) || n < (allowZero ? 0 : 1)) {
    throw new UsageError(
      `${flag} needs a ${allowZero ? 'non-negative' : 'positive'} integer, got "${text ?? ''}"`,
    );
  }
  return n;
}

interface Split {
  readonly positional: string[];
  readonly flags: Map<string, string | true>;
}

const VALUE_FLAGS = new Set([
  '--endpoints',
  '--shard',
  '--timeout',
  '-w',
  '--write-out',
  '--limit',
  '--id',
  '--peer-url',
  '--client-url',
  '--cacert',
  '--cert',
  '--key',
]);
const BOOLEAN_FLAGS = new Set(['--serializable', '--prefix', '--keys-only', '--help', '-h']);

function split(argv: readonly string[]): Split {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (VALUE_FLAGS.has(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      flags.set(name, value);
    } else if (BOOLEAN_FLAGS.has(name)) {
      flags.set(name, true);
    } else if (arg.startsWith('-') && arg !== '-') {
      throw new UsageError(`unknown option ${arg} (see raftctl --help)`);
    } else {
      positional.push(arg);
    }
  }
  return { positional, flags };
}

export function parseRaftctlArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): { options: GlobalOptions; command: RaftctlCommand } {
  const { positional, flags } = split(argv);
  const str = (name: string): string | undefined => {
    const v = flags.get(name);
    return typeof v === 'string' ? v : undefined;
  };
  const endpointsText = str('--endpoints') ?? env['RAFTCTL_ENDPOINTS'] ?? '127.0.0.1:2379';
  const endpoints = endpointsText
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (endpoints.length === 0) throw new UsageError('--endpoints needs at least one host:port');
  for (const e of endpoints) {
    if (!/^[^\s:]+:\d+$/.test(e) && !/^\[[0-9a-fA-F:]+\]:\d+$/.test(e)) {
      throw new UsageError(`endpoint "${e}" is not host:port`);
    }
  }
  const output = str('--write-out') ?? str('-w') ?? 'table';
  if (output !== 'table' && output !== 'json')
    throw new UsageError(`--write-out must be table or json, got "${output}"`);
  let security: TransportSecurity;
  try {
    security = transportSecurity({
      caFile: str('--cacert') ?? env['RAFTCTL_CACERT'] ?? '',
      certFile: str('--cert') ?? env['RAFTCTL_CERT'] ?? '',
      keyFile: str('--key') ?? env['RAFTCTL_KEY'] ?? '',
    });
  } catch (err) {
    if (err instanceof TransportSecurityError)
      throw new UsageError(`${err.message} (--cacert, --cert, --key)`);
    throw err;
  }
  const options: GlobalOptions = {
    endpoints,
    security,
    shard: flags.has('--shard') ? positiveInt(str('--shard'), '--shard', true) : undefined,
    timeoutMs: flags.has('--timeout') ? parseDurationMs(str('--timeout') ?? '') : 5000,
    output,
  };
  if (flags.has('--help') || flags.has('-h') || positional.length === 0)
    return { options, command: { kind: 'help' } };

  const [verb, ...rest] = positional;
  const need = (n: number, form: string): void => {
    if (rest.length !== n) throw new UsageError(`usage: raftctl ${form}`);
  };
  switch (verb) {
    case 'put':
      need(2, 'put KEY VALUE');
      return { options, command: { kind: 'put', key: rest[0]!, value: rest[1]! } };
    case 'get':
      need(1, 'get KEY [--serializable]');
      return { options, command: { kind: 'get', key: rest[0]!, serializable: flags.has('--serializable') } };
    case 'del':
      need(1, 'del KEY [--prefix]');
      return { options, command: { kind: 'del', key: rest[0]!, prefix: flags.has('--prefix') } };
    case 'range': {
      if (rest.length < 1 || rest.length > 2)
        throw new UsageError('usage: raftctl range START [END] [--prefix]');
      if (rest.length === 2 && flags.has('--prefix')) throw new UsageError('range: --prefix takes no END');
      return {
        options,
        command: {
          kind: 'range',
          start: rest[0]!,
          ...(rest[1] !== undefined ? { end: rest[1] } : {}),
          prefix: flags.has('--prefix'),
          limit: flags.has('--limit') ? positiveInt(str('--limit'), '--limit') : 0,
          keysOnly: flags.has('--keys-only'),
          serializable: flags.has('--serializable'),
        },
      };
    }
    case 'txn':
      need(1, 'txn FILE|-');
      return { options, command: { kind: 'txn', file: rest[0]! } };
    case 'member': {
      const [sub, ...args] = rest;
      if (sub === 'list' && args.length === 0) return { options, command: { kind: 'memberList' } };
      if (sub === 'promote' && args.length === 1)
        return { options, command: { kind: 'memberPromote', id: args[0]! } };
      if (sub === 'remove' && args.length === 1)
        return { options, command: { kind: 'memberRemove', id: args[0]! } };
      if (sub === 'force-new-cluster' && args.length === 1) {
        // Sent to exactly the member meant: failing over to another endpoint would only be refused there.
        if (endpoints.length !== 1) {
          throw new UsageError(
            'member force-new-cluster talks to one member only: give its endpoint alone in --endpoints',
          );
        }
        return { options, command: { kind: 'memberForceNewCluster', name: args[0]! } };
      }
      if (sub === 'add' && args.length === 1) {
        const id = str('--id');
        const peerUrl = str('--peer-url');
        const clientUrl = str('--client-url');
        if (!id || !peerUrl || !clientUrl) {
          throw new UsageError(
            'usage: raftctl member add NAME --id ID --peer-url HOST:PORT --client-url HOST:PORT',
          );
        }
        return { options, command: { kind: 'memberAdd', name: args[0]!, id, peerUrl, clientUrl } };
      }
      throw new UsageError(
        'usage: raftctl member list | add NAME … | promote ID | remove ID | force-new-cluster NAME',
      );
    }
    case 'transfer-leader':
      if (rest.length > 1) throw new UsageError('usage: raftctl transfer-leader [MEMBER-ID]');
      return { options, command: { kind: 'transferLeader', to: rest[0] ?? '' } };
    case 'status':
      need(0, 'status');
      return { options, command: { kind: 'status' } };
    case 'snapshot':
      need(0, 'snapshot');
      return { options, command: { kind: 'snapshot' } };
    case 'data-format': {
      const [sub, ...args] = rest;
      if (sub !== 'set' || args.length !== 1)
        throw new UsageError('usage: raftctl data-format set N [--shard S]');
      // Which formats exist is the members' to say (a newer member may know more than this raftctl); the bound
      // only keeps the number what the wire carries unchanged (a data format is one byte in the log).
      const format = positiveInt(args[0], 'data-format set');
      if (format > MAX_WIRE_DATA_FORMAT) {
        throw new UsageError(
          `data-format set: ${format} is not a data format (at most ${MAX_WIRE_DATA_FORMAT})`,
        );
      }
      return { options, command: { kind: 'dataFormatSet', format } };
    }
    default:
      throw new UsageError(`unknown command "${verb}" (see raftctl --help)`);
  }
}
