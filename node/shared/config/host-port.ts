// Network addresses as `host:port`, the form every listen and advertise flag takes. IPv6 literals are bracketed
// (`[::1]:2380`) so the last colon is unambiguous; a host name must be a valid DNS name so that a typo such as
// `http://peer:2380` is refused at start rather than failing on first connect.

import { isIPv4, isIPv6 } from 'node:net';

export interface HostPort {
  /** An IPv4 literal, an IPv6 literal without brackets, or a DNS name (lower-cased). */
  readonly host: string;
  /** 0..65535; 0 asks the OS for a free port and is only meaningful for listen addresses. */
  readonly port: number;
}

export type HostPortParse = { readonly ok: true; readonly value: HostPort } | { readonly ok: false };

const MAX_DNS_NAME_CHARS = 253;
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const PORT = /^[0-9]{1,5}$/;

export const HOST_PORT_EXPECTED =
  'host:port with a port from 0 to 65535 and a host that is an IPv4 address, a bracketed IPv6 address ([::1]) or a DNS name';

export function parseHostPort(raw: string): HostPortParse {
  let host: string;
  let portText: string;
  if (raw.startsWith('[')) {
    const close = raw.indexOf(']');
    if (close < 0 || raw[close + 1] !== ':') return { ok: false };
    host = raw.slice(1, close);
    portText = raw.slice(close + 2);
    if (!isIPv6(host)) return { ok: false };
  } else {
    const colon = raw.lastIndexOf(':');
    if (colon <= 0) return { ok: false };
    host = raw.slice(0, colon).toLowerCase();
    portText = raw.slice(colon + 1);
    if (!isIPv4(host) && !isDnsName(host)) return { ok: false };
  }
  if (!PORT.test(portText)) return { ok: false };
  const port = Number(portText);
  if (port > 65535) return { ok: false };
  return { ok: true, value: { host, port } };
}

function isDnsName(host: string): boolean {
  if (host.length > MAX_DNS_NAME_CHARS) return false;
  // A dotted quad that failed isIPv4 (e.g. 300.1.1.1) would otherwise pass as a DNS name made of digit labels.
  if (/^[0-9.]+$/.test(host)) return false;
  return host.split('.').every((label) => DNS_LABEL.test(label));
}

export function formatHostPort(a: HostPort): string {
  return isIPv6(a.host) ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** The "any address" hosts: listening there is fine, but other members cannot dial them. */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

/** Whether two listen addresses could contend for the same socket (same port on the same or a wildcard host). */
export function listenAddressesClash(a: HostPort, b: HostPort): boolean {
  if (a.port === 0 || b.port === 0 || a.port !== b.port) return false;
  return a.host === b.host || isWildcardHost(a.host) || isWildcardHost(b.host);
}
