// The target group's copy cursor (copy-cursors.ts) as the state machine keeps it: moved by the pages it
// applies, kept through a snapshot, gone once the import is sealed or aborted; and the pages themselves, which may
// repeat what is in (a resumed or stale coordinator) without changing anything.
import { KvStateMachine, kvStateMachineOptions } from './state-machine.js';
import { SlotOwnership } from '../sharding/slot-ownership.js';
import { keySlot } from '../../shared/sharding/slot.js';
import { b, command } from '../../testing/kv/test-helpers.js';
import type { CommandResult, IngestOp, Operation } from './types.js';

const EPOCH = 5;
const SLOT = keySlot('t'); // every key below is tagged {t}: one slot, in shard 1's half of a 2-shard layout
const key = (name: string): string => `{t}${name}`;

/** Shard 0 of two, importing SLOT from shard 1 at EPOCH. */
class Target {
  index = 0;
  machine = new KvStateMachine(kvStateMachineOptions(undefined, 1, () => SlotOwnership.initial(0, 2)));
  constructor() {
    expect(
      this.run({ kind: 'moveSlots', request: { step: 'import', slots: [SLOT], peer: 1, epoch: EPOCH } }),
    ).toMatchObject({ ok: true });
  }
  run(op: Operation): CommandResult {
    return this.machine.apply(++this.index, command(op, 1)).result;
  }
  ingest(start: IngestOp['start'], names: string[], seal: number[] = [], version = 1): CommandResult {
    const kvs = names.map((n) => ({ key: b(key(n)), value: b(`v-${n}`), version }));
    return this.run({ kind: 'ingest', from: 1, epoch: EPOCH, start, kvs, seal, sessions: [] });
  }
  get cursor(): string | undefined {
    const c = this.machine.copyCursor(EPOCH);
    return c === undefined ? undefined : new TextDecoder().decode(c);
  }
}

const first = { kind: 'first' } as const;
const after = (name: string): IngestOp['start'] => ({ kind: 'after', key: b(key(name)) });

describe('the copy cursor of an import', () => {
  it('advances with each page that continues the copy', () => {
    const target = new Target();
    expect(target.cursor).toBeUndefined();
    expect(target.ingest(first, ['a', 'b'])).toMatchObject({ ok: true, changed: 2 });
    expect(target.cursor).toBe(key('b'));
    expect(target.ingest(after('b'), ['c'])).toMatchObject({ ok: true, changed: 1 });
    expect(target.cursor).toBe(key('c'));
    expect(target.ingest(after('c'), [])).toMatchObject({ ok: true, changed: 0 }); // an empty page: nothing to move over
    expect(target.cursor).toBe(key('c'));
  });

  it('survives a snapshot: a restored member resumes the copy where it stood', () => {
    const target = new Target();
    target.ingest(first, ['a', 'b']);
    target.machine = KvStateMachine.restore(target.machine.snapshot(), kvStateMachineOptions());
    expect(target.cursor).toBe(key('b'));
    expect(target.ingest(after('b'), ['c'])).toMatchObject({ ok: true });
    expect(target.cursor).toBe(key('c'));
  });

  it('is cleared when the last page seals the import', () => {
    const target = new Target();
    target.ingest(first, ['a']);
    expect(target.ingest(after('a'), ['b'], [SLOT])).toMatchObject({ ok: true, changed: 1 });
    expect(target.machine.ownership.stateOf(SLOT)).toBe('imported');
    expect(target.cursor).toBeUndefined();
  });

  it('is cleared when the import is aborted', () => {
    const target = new Target();
    target.ingest(first, ['a']);
    expect(
      target.run({ kind: 'moveSlots', request: { step: 'abort', slots: [SLOT], peer: 1, epoch: EPOCH } }),
    ).toMatchObject({ ok: true });
    expect(target.cursor).toBeUndefined();
    expect(target.machine.keyCount).toBe(0);
  });

  it('takes a page sent again, or one overlapping what is in, and changes nothing it already holds', () => {
    const target = new Target();
    target.ingest(first, ['a', 'b']);
    target.ingest(after('b'), ['c', 'd']);
    const revision = target.machine.revision;
    // A coordinator that resumed from an older position of its own: the same frozen data again.
    expect(target.ingest(first, ['a', 'b'])).toMatchObject({ ok: true, changed: 0 });
    expect(target.ingest(after('b'), ['c', 'd'])).toMatchObject({ ok: true, changed: 0 });
    expect(target.machine.revision).toBe(revision); // a repeat writes nothing
    expect(target.cursor).toBe(key('d'));
    // A page that starts inside what is in and goes beyond it: the new keys are written, the cursor moves.
    expect(target.ingest(after('c'), ['d', 'e'])).toMatchObject({ ok: true, changed: 1 });
    expect(target.cursor).toBe(key('e'));
    expect(target.machine.revision).toBe(revision + 1);
  });

  it('keeps a key it holds at a newer version than a page brings', () => {
    const target = new Target();
    target.ingest(first, ['a'], [], 3);
    expect(target.ingest(first, ['a'], [], 2)).toMatchObject({ ok: true, changed: 0 });
    target.ingest(after('a'), [], [SLOT]);
    target.run({ kind: 'moveSlots', request: { step: 'activate', slots: [SLOT], peer: 1, epoch: EPOCH } });
    expect(target.machine.get(key('a'))).toMatchObject({ value: b('v-a'), version: 3 });
  });

  it('applies a page that starts beyond the cursor, but does not move over the gap', () => {
    const target = new Target();
    target.ingest(first, ['a']);
    expect(target.ingest(after('c'), ['d', 'e'])).toMatchObject({ ok: true, changed: 2 });
    expect(target.cursor).toBe(key('a')); // (a, c] may hold keys not yet in: a resumed copy sends them
    expect(target.ingest(after('a'), ['b', 'c'])).toMatchObject({ ok: true, changed: 2 });
    expect(target.cursor).toBe(key('c'));
  });

  it('refuses, changing nothing, a page whose keys do not ascend after its start', () => {
    const target = new Target();
    target.ingest(first, ['b']);
    const revision = target.machine.revision;
    const unordered = target.ingest(after('b'), ['d', 'c']);
    expect(unordered).toMatchObject({ kind: 'slots', ok: false, changed: 0 });
    expect(unordered.kind === 'slots' && unordered.reason).toMatch(
      /ingest at epoch 5: the page’s keys are not in strictly ascending order/,
    );
    expect(target.ingest(after('b'), ['a'])).toMatchObject({ ok: false });
    expect(target.ingest(after('c'), ['d'], [SLOT])).toMatchObject({ ok: true }); // sanity: a good page seals
    expect(target.machine.revision).toBe(revision + 1);
  });

  it('leaves a page of unknown start (an entry logged before pages carried it) as it was: every key anew, no cursor', () => {
    const target = new Target();
    const unknown = { kind: 'unknown' } as const;
    expect(target.ingest(unknown, ['a', 'b'])).toMatchObject({ ok: true, changed: 2 });
    expect(target.ingest(unknown, ['a', 'b'])).toMatchObject({ ok: true, changed: 2 }); // rewritten, as then
    expect(target.machine.revision).toBe(2);
    expect(target.cursor).toBeUndefined();
  });
});
