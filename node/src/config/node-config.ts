// The datastore node's configuration: flags win over RAFTSTORE_* environment variables, which win over defaults.
// Parsing is pure (argv and env are passed in) and reports every problem at once through ConfigError. Cross-field
// rules run only on settings that parsed, so one typo does not cascade into a list of confusing follow-on errors.
//
// Unknown RAFTSTORE_* variables are deliberately ignored: Kubernetes injects service-link variables such as
// RAFTSTORE_PORT or RAFTSTORE_SERVICE_HOST for a Service named "raftstore", and refusing them would break start-up.

import { ConfigError, type ConfigProblem, type ValueSource } from './config-error.js';
import { splitArgv, type FlagInfo } from './argv.js';
import {
  formatHostPort,
  isWildcardHost,
  listenAddressesClash,
  type HostPort,
} from '../../shared/config/host-port.js';
import {
  OPTION_KEYS,
  OPTIONS,
  type OptionKey,
  type OptionSpec,
  type OptionValue,
} from '../../shared/config/options.js';

/**
 * One field per entry of the option table, typed by its parser: a new setting is declared once, in options.ts.
 * Three fields are completed here rather than taken as parsed: advertiseClient and advertisePeer are always
 * dialable (never a wildcard host nor port 0; derived from the listen address when that is dialable), and
 * initialMembers is empty only with initialClusterState 'existing' and no --initial-members.
 */
export type NodeConfig = { readonly [K in OptionKey]: OptionValue<K> };

/** The settings as parsed so far: undefined when unset (without default) or invalid (a problem is then recorded). */
type PartialConfig = { -readonly [K in OptionKey]?: NodeConfig[K] };

export type Env = Readonly<Record<string, string | undefined>>;

const FLAGS: ReadonlyMap<string, FlagInfo> = new Map(
  OPTION_KEYS.map((k) => {
    const spec: OptionSpec<unknown> = OPTIONS[k];
    return [spec.flag, { env: spec.env, isBoolean: spec.isBoolean === true }];
  }),
);

/** True when argv asks for --help (or -h): the caller prints usage() and exits 0 instead of parsing. */
export function helpRequested(argv: readonly string[]): boolean {
  return splitArgv(argv, FLAGS).help;
}

interface Raw {
  readonly text: string;
  readonly source: ValueSource;
}

/**
 * Parses and validates the node's configuration.
 * @throws ConfigError listing every problem found.
 */
export function parseNodeConfig(argv: readonly string[], env: Env): NodeConfig {
  const split = splitArgv(argv, FLAGS);
  const problems: ConfigProblem[] = [...split.problems];

  const rawOf = (spec: OptionSpec<unknown>): Raw | undefined => {
    const fromFlag = split.values.get(spec.flag);
    if (fromFlag !== undefined) return { text: fromFlag, source: 'flag' };
    // An empty variable counts as unset: Kubernetes renders an absent ConfigMap key or Helm value as "".
    const fromEnv = env[spec.env];
    if (fromEnv !== undefined && fromEnv !== '') return { text: fromEnv, source: 'env' };
    if (spec.defaultValue !== undefined) return { text: spec.defaultValue, source: 'default' };
    return undefined;
  };

  const sources = new Map<OptionKey, Raw>();
  /** The parsed value, or undefined when unset (without default) or invalid (a problem is then recorded). */
  function get<K extends OptionKey>(key: K): OptionValue<K> | undefined {
    const spec = OPTIONS[key] as OptionSpec<OptionValue<K>>;
    const raw = rawOf(spec);
    if (raw === undefined) {
      if (spec.required === true) {
        problems.push({
          flag: spec.flag,
          envVar: spec.env,
          expected: `required: set ${spec.flag} or ${spec.env}`,
        });
      }
      return undefined;
    }
    sources.set(key, raw);
    const parsed = spec.parse(raw.text);
    if (parsed.ok) return parsed.value;
    problems.push({
      flag: spec.flag,
      envVar: spec.env,
      value: raw.text,
      source: raw.source,
      expected: parsed.expected,
    });
    return undefined;
  }

  /** Records a problem with a setting that parsed but conflicts with another one. */
  const conflict = (key: OptionKey, expected: string): void => {
    const spec: OptionSpec<unknown> = OPTIONS[key];
    const raw = sources.get(key);
    problems.push({ flag: spec.flag, envVar: spec.env, value: raw?.text, source: raw?.source, expected });
  };

  const values: PartialConfig = {};
  for (const key of OPTION_KEYS) setValue(values, key, get(key));
  const {
    name,
    clientListen,
    peerListen,
    httpListen,
    initialMembers,
    initialClusterState,
    electionTicks,
    heartbeatTicks,
    maxKeyBytes,
    maxValueBytes,
    maxRequestBytes,
    maxUncommittedBytes,
  } = values;

  // Raft needs several heartbeats per election timeout, or followers start elections against a live leader.
  if (heartbeatTicks !== undefined && electionTicks !== undefined && heartbeatTicks >= electionTicks) {
    conflict('heartbeatTicks', `fewer ticks than --election-ticks (${electionTicks})`);
  }

  // A request carries a key and a value plus its envelope; a limit that cannot fit both makes the maximum
  // value unwritable.
  if (maxRequestBytes !== undefined && maxKeyBytes !== undefined && maxValueBytes !== undefined) {
    if (maxRequestBytes <= maxKeyBytes + maxValueBytes) {
      conflict(
        'maxRequestBytes',
        `more than --max-key-bytes + --max-value-bytes (${maxKeyBytes} + ${maxValueBytes} = ${maxKeyBytes + maxValueBytes})`,
      );
    }
  }
  // Otherwise a single largest request could never be proposed, however empty the log tail.
  if (
    maxUncommittedBytes !== undefined &&
    maxRequestBytes !== undefined &&
    maxUncommittedBytes < maxRequestBytes
  ) {
    conflict('maxUncommittedBytes', `at least --max-request-bytes (${maxRequestBytes})`);
  }

  // Half a TLS configuration is a mistake, never a request for plaintext.
  const tlsKeys = ['tlsCaFile', 'tlsCertFile', 'tlsKeyFile'] as const;
  const tlsGiven = tlsKeys.filter((k) => values[k] !== undefined && values[k] !== '');
  if (tlsGiven.length > 0 && tlsGiven.length < tlsKeys.length) {
    const given = tlsGiven.map((k) => OPTIONS[k].flag).join(' and ');
    for (const key of tlsKeys.filter((k) => values[k] === '')) {
      problems.push({
        flag: OPTIONS[key].flag,
        envVar: OPTIONS[key].env,
        expected: `required with ${given}: mutual TLS needs all three files (none for plaintext)`,
      });
    }
  }

  // Each listen address is checked against those before it, so a clash is reported once, on the later flag.
  const listens: readonly (readonly [OptionKey, HostPort | undefined])[] = [
    ['clientListen', clientListen],
    ['peerListen', peerListen],
    ['httpListen', httpListen],
  ];
  listens.forEach(([keyB, b], i) => {
    for (const [keyA, a] of listens.slice(0, i)) {
      if (a !== undefined && b !== undefined && listenAddressesClash(a, b)) {
        conflict(keyB, `a port other than ${OPTIONS[keyA].flag}'s (${formatHostPort(a)})`);
      }
    }
  });

  const advertiseClient = advertised('advertiseClient', values.advertiseClient, 'clientListen', clientListen);
  const advertisePeer = advertised('advertisePeer', values.advertisePeer, 'peerListen', peerListen);

  function advertised(
    key: 'advertiseClient' | 'advertisePeer',
    given: HostPort | undefined,
    listenKey: 'clientListen' | 'peerListen',
    listen: HostPort | undefined,
  ): HostPort | undefined {
    const spec: OptionSpec<unknown> = OPTIONS[key];
    if (given !== undefined) {
      if (isWildcardHost(given.host) || given.port === 0) {
        conflict(key, 'an address others can dial: not 0.0.0.0 or :: and not port 0');
        return undefined;
      }
      return given;
    }
    if (sources.has(key) || listen === undefined) return undefined; // invalid, already reported
    if (isWildcardHost(listen.host) || listen.port === 0) {
      const listenFlag = OPTIONS[listenKey].flag;
      problems.push({
        flag: spec.flag,
        envVar: spec.env,
        expected:
          `required because ${listenFlag} is ${formatHostPort(listen)}, which other members cannot dial: ` +
          `set ${spec.flag} or ${spec.env} to this member's reachable host:port (in Kubernetes, its stable DNS name)`,
      });
      return undefined;
    }
    return listen;
  }

  if (initialClusterState === 'new' && initialMembers === undefined && !sources.has('initialMembers')) {
    problems.push({
      flag: OPTIONS.initialMembers.flag,
      envVar: OPTIONS.initialMembers.env,
      expected: `required with --initial-cluster-state=new: the founding members as name=host:port,...`,
    });
  }
  if (initialMembers !== undefined && name !== undefined) {
    const self = initialMembers.find((m) => m.name === name);
    if (self === undefined && initialClusterState === 'new') {
      conflict(
        'initialMembers',
        `a list that includes this member (--name ${name}) when founding a new cluster`,
      );
    }
    if (self !== undefined && advertisePeer !== undefined && !sameAddress(self.peerAddress, advertisePeer)) {
      conflict(
        'initialMembers',
        `${name}'s entry to match --advertise-peer (${formatHostPort(advertisePeer)}), not ${formatHostPort(self.peerAddress)}`,
      );
    }
  }

  if (problems.length > 0) throw new ConfigError(problems);
  values.advertiseClient = advertiseClient;
  values.advertisePeer = advertisePeer;
  values.initialMembers = initialMembers ?? [];
  // Every field is defined here: each undefined above recorded a problem. The check makes that visible to tsc.
  if (!isComplete(values)) {
    throw new Error('parseNodeConfig: a setting is missing without a recorded problem (bug)');
  }
  return values;
}

function setValue<K extends OptionKey>(
  values: PartialConfig,
  key: K,
  value: NodeConfig[K] | undefined,
): void {
  values[key] = value;
}

function isComplete(values: PartialConfig): values is Required<PartialConfig> {
  return OPTION_KEYS.every((k) => values[k] !== undefined);
}

function sameAddress(a: HostPort, b: HostPort): boolean {
  return a.host === b.host && a.port === b.port;
}
