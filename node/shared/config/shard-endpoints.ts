// Where a member finds the members of other shards, to route a key whose slot its own group does not own. Two
// forms, one flag (--shard-endpoints):
// - a template with `{shard}`: `demo-shard-{shard}.ns.svc.cluster.local:2379`. On Kubernetes each shard has a client
//   Service, so one stable name per shard reaches any of its members whatever their count, and shards created by a
//   later reshard need no change to the flag (nor a restart);
// - an explicit list, `0=127.0.0.1:2379,127.0.0.1:2479;1=127.0.0.1:2579`: members on one machine (tests, local runs).
// Empty: this member does not route (a single-shard cluster); a key it does not own is answered with a redirect.

import { HOST_PORT_EXPECTED, parseHostPort } from './host-port.js';

export const SHARD_PLACEHOLDER = '{shard}';

/** The highest shard id an endpoint list may name: the slot count (no more shards than slots). */
const MAX_SHARD = 4095;

export type ShardEndpoints =
  | { readonly kind: 'none' }
  | { readonly kind: 'template'; readonly template: string }
  | { readonly kind: 'list'; readonly byShard: ReadonlyMap<number, readonly string[]> };

export type ShardEndpointsParse =
  { readonly ok: true; readonly value: ShardEndpoints } | { readonly ok: false; readonly expected: string };

export const SHARD_ENDPOINTS_EXPECTED =
  `empty, a host:port template containing ${SHARD_PLACEHOLDER} (demo-shard-${SHARD_PLACEHOLDER}.ns.svc:2379), ` +
  `or shard=host:port[,host:port...] entries separated by ';' (0=10.0.0.1:2379;1=10.0.0.2:2379)`;

export function parseShardEndpoints(raw: string): ShardEndpointsParse {
  const text = raw.trim();
  if (text === '') return { ok: true, value: { kind: 'none' } };
  const fail = (why: string): ShardEndpointsParse => ({
    ok: false,
    expected: `${SHARD_ENDPOINTS_EXPECTED} (${why})`,
  });
  if (text.includes(SHARD_PLACEHOLDER)) {
    if (text.includes('=') || text.includes(';') || text.includes(','))
      return fail('a template names one address');
    // The template must be a valid address for any shard number.
    if (!parseHostPort(text.split(SHARD_PLACEHOLDER).join('0')).ok) return fail(HOST_PORT_EXPECTED);
    return { ok: true, value: { kind: 'template', template: text } };
  }
  const byShard = new Map<number, string[]>();
  for (const entry of text.split(';')) {
    const eq = entry.indexOf('=');
    const shardText = entry.slice(0, eq).trim();
    if (eq <= 0 || !/^(0|[1-9][0-9]{0,3})$/.test(shardText) || Number(shardText) > MAX_SHARD)
      return fail(`"${entry}" does not start with a shard number from 0 to ${MAX_SHARD} and '='`);
    const shard = Number(shardText);
    if (byShard.has(shard)) return fail(`shard ${shard} is listed twice`);
    const addresses = entry
      .slice(eq + 1)
      .split(',')
      .map((a) => a.trim());
    for (const address of addresses) {
      if (!parseHostPort(address).ok) return fail(`"${address}" is not ${HOST_PORT_EXPECTED}`);
    }
    byShard.set(shard, addresses);
  }
  return { ok: true, value: { kind: 'list', byShard } };
}

/** The addresses to try for `shard`, in order; empty when this member cannot reach that shard. */
export function endpointsOf(endpoints: ShardEndpoints, shard: number): readonly string[] {
  switch (endpoints.kind) {
    case 'none':
      return [];
    case 'template':
      return [endpoints.template.split(SHARD_PLACEHOLDER).join(String(shard))];
    case 'list':
      return endpoints.byShard.get(shard) ?? [];
  }
}

/** The flag's text for a list (what a local cluster passes its members). */
export function formatShardEndpoints(byShard: ReadonlyMap<number, readonly string[]>): string {
  return [...byShard.entries()]
    .sort(([a], [b]) => a - b)
    .map(([shard, addresses]) => `${shard}=${addresses.join(',')}`)
    .join(';');
}
