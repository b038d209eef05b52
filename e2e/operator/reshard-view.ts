// What the resharding e2e tests read besides the RaftCluster: the client Service's address (clients go through it,
// as users' do), the operator's SlotsMoved Events (one per batch: which slots, which epoch, which operator replica
// moved them) and which operator replica holds the leader Lease.
import { kubectlJson } from '../smoke/cluster.js';
import { CLIENT_PORT } from './raftcluster-view.js';

/** The client Service's ClusterIP and port: the node agent's service proxy spreads connections over its endpoints. */
export async function clientServiceAddress(namespace: string, service: string): Promise<string> {
  const svc = await kubectlJson<{ spec: { clusterIP?: string } }>([
    'get',
    'service',
    service,
    '-n',
    namespace,
  ]);
  const ip = svc.spec.clusterIP;
  if (ip === undefined || ip === 'None') throw new Error(`service ${namespace}/${service} has no ClusterIP`);
  return `${ip}:${CLIENT_PORT}`;
}

/** One batch as its SlotsMoved Event tells it. */
export interface SlotBatchEvent {
  readonly name: string;
  readonly from: number;
  readonly to: number;
  readonly firstSlot: number;
  readonly lastSlot: number;
  readonly epoch: number;
  readonly keys: number;
  readonly pauseMs: number;
  /** The operator replica that moved it (the Event's reportingInstance: its pod name). */
  readonly instance: string;
}

interface EventJson {
  metadata: { name: string; creationTimestamp?: string };
  eventTime?: string;
  reason?: string;
  note?: string;
  reportingInstance?: string;
}

const MOVED =
  /^moved slots (\d+)-(\d+) from shard (\d+) to shard (\d+) \(epoch (\d+)\): (\d+) key\(s\) in \d+ page\(s\), writes to these slots paused (\d+) ms$/;

export function parseSlotBatch(e: EventJson): SlotBatchEvent | undefined {
  if (e.reason !== 'SlotsMoved') return undefined;
  const m = MOVED.exec(e.note ?? '');
  if (m === null) throw new Error(`SlotsMoved Event ${e.metadata.name} has an unexpected note: ${e.note}`);
  const n = (i: number): number => Number(m[i]);
  return {
    name: e.metadata.name,
    firstSlot: n(1),
    lastSlot: n(2),
    from: n(3),
    to: n(4),
    epoch: n(5),
    keys: n(6),
    pauseMs: n(7),
    instance: e.reportingInstance ?? '',
  };
}

export async function slotBatchEvents(namespace: string): Promise<SlotBatchEvent[]> {
  const list = await kubectlJson<{ items: EventJson[] }>(['get', 'events.events.k8s.io', '-n', namespace]);
  return list.items.map(parseSlotBatch).filter((b): b is SlotBatchEvent => b !== undefined);
}

/** A retirement as its Events tell it: which groups' routing records were repointed, then which shard went. */
export interface RetirementEvent {
  readonly reason: 'SlotsRepointed' | 'ShardRetired';
  readonly note: string;
  readonly atMs: number;
}

/** The SlotsRepointed and ShardRetired Events in `namespace`, oldest first. */
export async function retirementEvents(namespace: string): Promise<RetirementEvent[]> {
  const list = await kubectlJson<{ items: EventJson[] }>(['get', 'events.events.k8s.io', '-n', namespace]);
  const out: RetirementEvent[] = [];
  for (const e of list.items) {
    if (e.reason !== 'SlotsRepointed' && e.reason !== 'ShardRetired') continue;
    const at = Date.parse(e.eventTime ?? e.metadata.creationTimestamp ?? '');
    out.push({ reason: e.reason, note: e.note ?? '', atMs: at });
  }
  return out.sort((a, b) => a.atMs - b.atMs);
}

/** How many batches moved each slot: a slot moved twice (or a batch copied twice) shows up as a count above 1. */
export function movesPerSlot(batches: readonly SlotBatchEvent[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const b of batches) {
    for (let s = b.firstSlot; s <= b.lastSlot; s++) counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  return counts;
}

/** The holder of the operator's leader Lease in `namespace` (the chart names it <release>-leader). */
export async function operatorLeader(namespace: string): Promise<string | undefined> {
  const leases = await kubectlJson<{
    items: { metadata: { name: string }; spec: { holderIdentity?: string } }[];
  }>(['get', 'leases.coordination.k8s.io', '-n', namespace]);
  const lease = leases.items.find((l) => l.metadata.name.endsWith('-leader'));
  const holder = lease?.spec.holderIdentity;
  return holder === undefined || holder === '' ? undefined : holder;
}
