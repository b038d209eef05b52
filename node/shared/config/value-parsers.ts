// Parsers for single raw values (from a flag, an environment variable or a built-in default). Each returns either
// the value or a phrase saying what was expected, so the caller can name the setting and report every problem at
// once. Parsing is strict: `1e3`, `+5`, ` 5` and `5ms` are refused rather than guessed at.

import { HOST_PORT_EXPECTED, parseHostPort, type HostPort } from './host-port.js';

export type Parsed<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly expected: string };

export type ValueParser<T> = (raw: string) => Parsed<T>;

const DIGITS = /^[0-9]+$/;
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1123_LABEL_MAX_CHARS = 63;

function ok<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

function fail<T>(expected: string): Parsed<T> {
  return { ok: false, expected };
}

/** A base-10 integer within [min, max], both inclusive and both safe integers. */
export function integerIn(min: number, max: number): ValueParser<number> {
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min > max) {
    throw new Error(`integerIn: bad bounds [${min}, ${max}]`);
  }
  const expected = `an integer from ${min} to ${max}`;
  return (raw) => {
    // The length bound keeps Number() exact: anything longer than 16 digits is out of any safe range anyway.
    if (!DIGITS.test(raw) || raw.length > 16) return fail(expected);
    const n = Number(raw);
    return n >= min && n <= max ? ok(n) : fail(expected);
  };
}

export const DNS_1123_LABEL_EXPECTED =
  "a DNS-1123 label: 1 to 63 lower-case letters, digits or '-', starting and ending with a letter or digit";

export const dns1123Label: ValueParser<string> = (raw) =>
  raw.length <= DNS_1123_LABEL_MAX_CHARS && DNS_1123_LABEL.test(raw)
    ? ok(raw)
    : fail(DNS_1123_LABEL_EXPECTED);

const IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const IDENTIFIER_MAX_CHARS = 128;
const IDENTIFIER_EXPECTED = `1 to ${IDENTIFIER_MAX_CHARS} letters, digits, '.', '_' or '-', starting with a letter or digit`;

/** An opaque identifier safe to put in log fields, metric labels and file names (the cluster id). */
export const identifier: ValueParser<string> = (raw) =>
  raw.length <= IDENTIFIER_MAX_CHARS && IDENTIFIER.test(raw) ? ok(raw) : fail(IDENTIFIER_EXPECTED);

const PATH_MAX_CHARS = 4096;

/** A file-system path: non-empty, bounded, and without the NUL byte no system call accepts. */
export const path: ValueParser<string> = (raw) =>
  raw.length > 0 && raw.length <= PATH_MAX_CHARS && !raw.includes('\0')
    ? ok(raw)
    : fail(`a non-empty path of at most ${PATH_MAX_CHARS} characters`);

/** A path, or "" for none (an option that is off unless given). */
export const optionalPath: ValueParser<string> = (raw) => (raw === '' ? ok('') : path(raw));

export const hostPort: ValueParser<HostPort> = (raw) => {
  const p = parseHostPort(raw);
  return p.ok ? ok(p.value) : fail(HOST_PORT_EXPECTED);
};

/** Exactly `true` or `false`: a boolean that guards durability must not accept `yes`, `0` or `False` by accident. */
export const boolean: ValueParser<boolean> = (raw) => {
  if (raw === 'true') return ok(true);
  if (raw === 'false') return ok(false);
  return fail('true or false');
};

export function oneOf<T extends string>(choices: readonly T[]): ValueParser<T> {
  const expected = `one of ${choices.join(', ')}`;
  return (raw) => {
    const found = choices.find((c) => c === raw);
    return found === undefined ? fail(expected) : ok(found);
  };
}

export interface InitialMember {
  readonly name: string;
  /** The member's peer address, as the others dial it. */
  readonly peerAddress: HostPort;
}

/** Founding members are all voters; beyond this every commit waits on too many fsyncs (etcd advises at most 7). */
export const MAX_INITIAL_MEMBERS = 9;

const MEMBERS_EXPECTED = `a comma-separated list of 1 to ${MAX_INITIAL_MEMBERS} unique name=host:port entries`;

/** `a=10.0.0.1:2380,b=10.0.0.2:2380`: the peer addresses of the founding members. */
export const initialMembers: ValueParser<readonly InitialMember[]> = (raw) => {
  const parts = raw.split(',');
  if (parts.length > MAX_INITIAL_MEMBERS) return fail(MEMBERS_EXPECTED);
  const members: InitialMember[] = [];
  const names = new Set<string>();
  const addresses = new Set<string>();
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq < 0) return fail(`${MEMBERS_EXPECTED} (entry ${JSON.stringify(part)} has no '=')`);
    const name = part.slice(0, eq);
    const address = part.slice(eq + 1);
    if (!dns1123Label(name).ok)
      return fail(`${MEMBERS_EXPECTED} (bad name ${JSON.stringify(name)}: ${DNS_1123_LABEL_EXPECTED})`);
    const peer = parseHostPort(address);
    if (!peer.ok || peer.value.port === 0) {
      return fail(
        `${MEMBERS_EXPECTED} (bad address ${JSON.stringify(address)} for ${name}: ${HOST_PORT_EXPECTED}, port not 0)`,
      );
    }
    const key = `${peer.value.host}:${peer.value.port}`;
    if (names.has(name)) return fail(`${MEMBERS_EXPECTED} (${name} appears twice)`);
    if (addresses.has(key)) return fail(`${MEMBERS_EXPECTED} (address ${address} appears twice)`);
    names.add(name);
    addresses.add(key);
    members.push({ name, peerAddress: peer.value });
  }
  return ok(members);
};
