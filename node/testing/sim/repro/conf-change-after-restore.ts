// Reproduction, driven by hand through RawNode, of a configuration that goes wrong on a follower. Found by the
// simulation's configuration check (seeds 1147 and 1997 with --mutate dropConfChangeGuard: the planted bug only made
// it likelier); the bug is in the real core, as this script shows with the guard in place.
//
// A follower's host holds a Ready whose committed entries include conf changes (it is still persisting it: RawNode
// allows steps between ready() and advance(), and the simulation's slow disks do that). Meanwhile the leader changes
// the configuration again, compacts its log and sends a snapshot; the follower restores it and takes the snapshot's
// configuration, which already covers the held changes and the later ones. Then the host finishes the held Ready
// and calls advance(): raw-node.ts applies the Ready's conf changes once more, on top of the snapshot's
// configuration. Applying a change is not idempotent across that: here the held Ready adds and promotes d, the
// snapshot covers d's removal, and the follower ends up counting d, a removed member, as a voter.
//
// Fixed in raw-node.ts advance() (conf changes at or below a snapshot restored meanwhile are not applied again);
// raft-membership.test.ts holds the same scenario as a test. The script now ends "configuration as committed".
//
//   npx tsx node/testing/sim/repro/conf-change-after-restore.ts
import { MemoryStorage, RawNode, type Message, type Ready } from '../../../src/raft/index.js';
import { seededRandom } from '../../../src/random/prng.js';

const ids = ['a', 'b', 'c', 'e'];
const random = seededRandom(1);
const storages = new Map(ids.map((id) => [id, MemoryStorage.bootstrap(ids)]));
const nodes = new Map(
  ids.map((id) => [
    id,
    new RawNode({ id, storage: storages.get(id)!, electionTicks: 10, heartbeatTicks: 1, random }),
  ]),
);
const a = nodes.get('a')!;
const c = nodes.get('c')!;
let network: Message[] = [];
/** c's host does not handle Readies while this is set: it is busy persisting an earlier one. */
let cBusy = false;
/** Messages to c are lost while this is set. */
let cCut = false;

function handle(id: string): void {
  const node = nodes.get(id)!;
  if (id === 'c' && cBusy) return;
  while (node.hasReady()) {
    const rd = node.ready();
    network.push(...rd.messages, ...rd.messagesAfterPersist);
    node.advance(rd);
  }
}

function run(): void {
  for (let round = 0; round < 1000; round++) {
    for (const id of ids) handle(id);
    if (network.length === 0) return;
    const batch = network;
    network = [];
    for (const m of batch) if (nodes.has(m.to) && !(cCut && m.to === 'c')) nodes.get(m.to)!.step(m);
  }
  throw new Error('did not settle');
}

function show(cs: { voters: readonly string[]; learners: readonly string[] }): string {
  return `voters ${cs.voters.join(',')} learners ${cs.learners.join(',') || '-'}`;
}

a.campaign();
run();
if (a.status().role !== 'leader') throw new Error('setup: a did not become leader');

// a adds the learner d and promotes it, one change at a time (d never starts: its appends go nowhere). c learns
// that both changes are committed, but its host is busy: the Ready that carries them as committed entries is taken
// and held.
cBusy = true;
const k1 = a.proposeConfChange({ type: 'addLearner', nodeId: 'd' });
if (!k1.ok) throw new Error('setup: addLearner refused');
run();
const k1b = a.proposeConfChange({ type: 'promote', nodeId: 'd' });
if (!k1b.ok) throw new Error(`setup: promote refused (${k1b.reason})`);
run();
if (c.status().commit < k1b.index) throw new Error(`setup: c did not learn commit ${k1b.index}`);
const held: Ready = c.ready();
if (!held.committedEntries.some((e) => e.index === k1b.index))
  throw new Error('setup: the held Ready lacks k1b');
console.log(`c holds a Ready with committed entries ${held.committedEntries.map((e) => e.index).join(',')}`);

// a, b and e go on without c (its link is down): d is removed again, and a compacts its log past both changes.
cCut = true;
const k2 = a.proposeConfChange({ type: 'remove', nodeId: 'd' });
if (!k2.ok) throw new Error(`setup: remove refused (${k2.reason})`);
run();
a.compact(new Uint8Array(), 0);
cCut = false;
const snapshot = storages.get('a')!.snapshot();
console.log(
  `a: ${show(a.confState())}; snapshot at ${snapshot.metadata.index}: ${show(snapshot.metadata.confState)}`,
);

// The snapshot reaches c while its host is still busy with the held Ready: c restores it.
c.step({
  type: 'snap',
  from: 'a',
  to: 'c',
  term: a.status().term,
  logTerm: 0,
  index: 0,
  entries: [],
  commit: 0,
  reject: false,
  rejectHint: 0,
  snapshot,
});
console.log(`c after restoring the snapshot: ${show(c.confState())}`);

// The host finishes the held Ready, then handles the next one (the snapshot).
c.advance(held);
console.log(`c after advance(held Ready): ${show(c.confState())}`);
cBusy = false;
handle('c');
const applied = c.status().applied;
console.log(`c applied up to ${applied}: ${show(c.confState())}`);
const wrong = c.confState().learners.includes('d') || c.confState().voters.includes('d');
console.log(
  wrong
    ? `WRONG CONFIGURATION: c holds d, which the committed log removed at ${k2.index} (the snapshot at ${snapshot.metadata.index} has no d)`
    : 'configuration as committed',
);
