// Reproduction, driven by hand through RawNode, of a stale ReadIndex in the core (see the simulation report).
// A leader whose configuration has a single voter answers ReadIndex with its commit index at once, skipping the
// rule every other leader follows (thesis §6.4: do not answer until an entry of the current term is committed). A
// new leader may not yet know the latest commit index, so the read can miss a write that was already acknowledged.
//
//   npx tsx node/testing/sim/repro/singleton-read-index.ts
//
// Cluster {n1, n2}, n2 leads and removes itself: `remove n2` (index k) and a client write W (index k+1) are both
// committed by n2, which applies them (W is acknowledged) and steps down. The append that would have told n1 that
// k+1 is committed is lost; n1 knows commit = k, applies the removal, becomes the only voter, wins at once, and a
// ReadIndex issued before its no-op is persisted comes back with index k: W is not visible.
import { MemoryStorage, RawNode, type Message, type Ready } from '../../../src/raft/index.js';
import { seededRandom } from '../../../src/random/prng.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const random = seededRandom(1);

const nodes = new Map<string, RawNode>();
for (const id of ['n1', 'n2']) {
  nodes.set(
    id,
    new RawNode({
      id,
      storage: MemoryStorage.bootstrap(['n1', 'n2']),
      electionTicks: 10,
      heartbeatTicks: 1,
      random,
    }),
  );
}
const n1 = nodes.get('n1')!;
const n2 = nodes.get('n2')!;
const applied = new Map<string, string[]>([
  ['n1', []],
  ['n2', []],
]);
let network: Message[] = [];

/** The host loop for one member: persist, then send, then apply, then advance. */
function handle(id: string): Ready[] {
  const node = nodes.get(id)!;
  const rds: Ready[] = [];
  while (node.hasReady()) {
    const rd = node.ready();
    rds.push(rd);
    for (const m of [...rd.messages, ...rd.messagesAfterPersist]) {
      network.push(m);
    }
    for (const e of rd.committedEntries) {
      if (e.data.byteLength > 0)
        applied.get(id)!.push(`${e.index}:${e.type === 'normal' ? dec.decode(e.data) : 'conf'}`);
    }
    node.advance(rd);
  }
  return rds;
}
function deliverAll(): void {
  while (network.length > 0) {
    const batch = network;
    network = [];
    for (const m of batch) {
      nodes.get(m.to)!.step(m);
    }
    for (const id of nodes.keys()) handle(id);
  }
}

// n2 becomes leader.
n2.campaign();
handle('n2');
deliverAll();
if (n2.status().role !== 'leader') throw new Error('setup: n2 did not become leader');

// n2 proposes its own removal (k) and a client write W (k+1); the appends are held back for now.
const k = n2.proposeConfChange({ type: 'remove', nodeId: 'n2' });
if (!k.ok) throw new Error('setup: removal refused');
handle('n2');
const w = n2.propose(enc.encode('put x=W'));
if (!w.ok) throw new Error(`setup: write refused (${w.reason})`);
handle('n2');
// n1 receives both appends and acknowledges both.
for (const m of network.splice(0)) nodes.get(m.to)!.step(m);
handle('n1');
// n2 receives both acks: it commits k, then k+1, and queues "commit = k" and "commit = k+1" appends to n1.
for (const m of network.splice(0)) nodes.get(m.to)!.step(m);
// n2's host applies k and W (W is acknowledged to its client); applying k removes n2, which steps down.
handle('n2');
// The append telling n1 "commit = k+1" is lost; the one saying "commit = k" arrives.
for (const m of network.splice(0)) {
  if (m.to === 'n1' && m.type === 'app' && m.commit > k.index) continue;
  nodes.get(m.to)!.step(m);
}
handle('n1');
network = [];
console.log(`n2 applied: ${applied.get('n2')!.join(', ')}  (W acknowledged at index ${w.index})`);
console.log(
  `n2 role now: ${n2.status().role}; n1 commit: ${n1.status().commit}, n1 last index: ${n1.status().lastIndex}`,
);

// n1 applied the removal: it is the only voter. It campaigns and wins at once; a read arrives before the host
// has persisted the new leader's no-op (the host is between ready() and advance(), or batched inputs).
n1.campaign();
console.log(`n1 role: ${n1.status().role}, voters: ${n1.confState().voters.join(',')}`);
n1.readIndex(enc.encode('read-1'));
const rd = n1.ready();
const rs = rd.readStates[0];
console.log(`ReadIndex answered with index ${rs?.index} while W is committed at ${w.index}`);
console.log(
  rs !== undefined && rs.index < w.index
    ? 'STALE READ: a read served at this index does not see the acknowledged write W'
    : 'no stale read (the core waited for an entry of its term)',
);
n1.advance(rd);
