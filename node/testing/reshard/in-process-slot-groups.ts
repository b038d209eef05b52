// The slot-move API (SlotGroups) over in-process groups, each the real KvStateMachine applying one command at a time:
// what a coordinator test drives instead of gRPC. `failing` makes calls throw as a dead member's would (before the
// call reaches the group, or after it applied and the reply was lost), so a test can show that a coordinator retries
// and that its retries are bounded. `keysIngested` counts the keys of the pages the target applied, so a test can
// show that no key is copied twice.
import { status } from '@grpc/grpc-js';
import {
  NO_PEER,
  type ExportPage,
  type SlotGroups,
  type SlotRecord,
  type StepOutcome,
} from '../../shared/sharding/move-driver.js';
import { ByteReader, ByteWriter } from '../../src/kv/binary.js';
import { readSessions, writeSessions } from '../../src/kv/session-codec.js';
import { KvStateMachine, kvStateMachineOptions } from '../../src/kv/state-machine.js';
import type { CommandResult, Operation, SessionRef } from '../../src/kv/types.js';
import { SlotOwnership } from '../../src/sharding/slot-ownership.js';

export class InProcessGroup {
  private index = 0;
  readonly machine: KvStateMachine;

  /** Group `shard` of a cluster created with `bootstrapShards` groups (a later one starts owning nothing). */
  constructor(shard: number, bootstrapShards: number) {
    this.machine = new KvStateMachine(
      kvStateMachineOptions(undefined, shard + 1, () => SlotOwnership.initial(shard, bootstrapShards)),
    );
  }

  run(op: Operation, session?: SessionRef): CommandResult {
    const command = session === undefined ? { timestampMs: 1, op } : { timestampMs: 1, session, op };
    return this.machine.apply(++this.index, command).result;
  }
}

/** A call failure as grpc-js reports one (a code and details), for the coordinator's error messages. */
export class FakeCallError extends Error {
  readonly code = status.UNAVAILABLE;
  constructor(readonly details: string) {
    super(details);
  }
}

/** Whether the n-th call (from 1) fails, and whether it fails after the group applied it (a lost reply). */
export type FailurePlan = (call: number) => 'ok' | 'before' | 'after';

function slotsResult(r: CommandResult): StepOutcome {
  if (r.kind !== 'slots') throw new Error(`a slot command produced ${r.kind}`);
  return { ok: r.ok, reason: r.reason };
}

export class InProcessSlotGroups implements SlotGroups {
  calls = 0;
  failures = 0;
  keysIngested = 0;

  /** `withCursors` false: groups that report no copy cursor, as members of an older version do. */
  constructor(
    readonly groups: InProcessGroup[],
    private readonly failing: FailurePlan = () => 'ok',
    private readonly pageKeys = 3,
    private readonly withCursors = true,
  ) {}

  private group(shard: number): InProcessGroup {
    const g = this.groups[shard];
    if (g === undefined) throw new FakeCallError(`no group ${shard}`);
    return g;
  }

  /** Runs `apply` unless the plan fails this call; a lost reply applies first and then fails. */
  private call<T>(apply: () => T): Promise<T> {
    this.calls += 1;
    const plan = this.failing(this.calls);
    if (plan === 'before') {
      this.failures += 1;
      return Promise.reject(new FakeCallError(`call ${this.calls} never reached the group`));
    }
    const result = apply();
    if (plan === 'after') {
      this.failures += 1;
      return Promise.reject(new FakeCallError(`call ${this.calls}: the reply was lost`));
    }
    return Promise.resolve(result);
  }

  status(shard: number, slots: readonly number[]): Promise<{ epoch: number; records: SlotRecord[] }> {
    return this.call(() => {
      const m = this.group(shard).machine;
      const o = m.ownership;
      return {
        epoch: o.epoch,
        records: slots.map((s): SlotRecord => {
          const record = { state: o.stateOf(s), epoch: o.moveEpochOf(s), peer: o.peerOf(s) ?? NO_PEER };
          const cursor =
            this.withCursors && record.state === 'importing' ? m.copyCursor(record.epoch) : undefined;
          return cursor === undefined ? record : { ...record, copyCursor: cursor };
        }),
      };
    });
  }

  step(...[shard, step, slots, peer, epoch]: Parameters<SlotGroups['step']>): Promise<StepOutcome> {
    return this.call(() =>
      slotsResult(this.group(shard).run({ kind: 'moveSlots', request: { step, slots, peer, epoch } })),
    );
  }

  exportPage(...[shard, slots, epoch, after]: Parameters<SlotGroups['exportPage']>): Promise<ExportPage> {
    return this.call((): ExportPage => {
      const m = this.group(shard).machine;
      const page = m.exportSlots({
        slots,
        epoch,
        ...(after !== undefined ? { after } : {}),
        maxKeys: this.pageKeys,
        maxBytes: 1 << 20,
      });
      if (!page.ok) return page;
      const w = new ByteWriter();
      writeSessions(w, m.sessions());
      return {
        ok: true,
        kvs: page.kvs,
        more: page.more,
        sessions: page.more ? new Uint8Array() : w.finish(),
      };
    });
  }

  ingest(
    ...[shard, from, epoch, kvs, seal, sessions, after]: Parameters<SlotGroups['ingest']>
  ): Promise<StepOutcome> {
    return this.call(() => {
      const decoded = sessions.length === 0 ? [] : readSessions(new ByteReader(sessions, 'sessions'));
      const outcome = slotsResult(
        this.group(shard).run({
          kind: 'ingest',
          from,
          epoch,
          start: after === undefined ? { kind: 'first' } : { kind: 'after', key: after },
          kvs,
          seal,
          sessions: decoded,
        }),
      );
      if (outcome.ok) this.keysIngested += kvs.length; // a lost reply too: the group applied the page
      return outcome;
    });
  }
}
