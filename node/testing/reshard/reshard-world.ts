// A deterministic world for the slot-move protocol: several groups, each the real KvStateMachine (one Raft group is
// linearizable, which the Raft simulation checks; here a group applies each command atomically), a coordinator that
// moves slots between them step by step, and clients that route by slot, follow redirects and retry. Faults between
// every step: the coordinator crashes and resumes from its last recorded step (redoing what it had not recorded), a
// stale coordinator keeps sending its old step, groups restart from their snapshot, replies are lost and retried.
//
// Checks: no slot is ever served by two groups (single writer), the clients' history is linearizable per key, and
// every acknowledged write is readable at the end. Planted bugs (`plant`) break the coordinator in the two ways the
// protocol exists to prevent; the tests show the checks catch each.

import {
  abortPhase,
  movePhase,
  strayMove,
  type MovePhase,
  type SlotSide,
} from '../../shared/sharding/move-phase.js';
import { keySlot } from '../../shared/sharding/slot.js';
import { KvStateMachine, kvStateMachineOptions } from '../../src/kv/state-machine.js';
import type { CommandResult, IngestedKey, Operation, SessionRef } from '../../src/kv/types.js';
import { seededRandom } from '../../src/random/prng.js';
import { ShardMap } from '../../shared/sharding/shard-map.js';
import { SlotOwnership, type SlotMoveRequest } from '../../src/sharding/slot-ownership.js';
import { checkLinearizable, type CheckResult } from '../lincheck/check.js';
import type { Operation as HistoryOp } from '../lincheck/history.js';
import { kvModel, type KvInput, type KvOutput } from '../lincheck/kv-model.js';

export type PlantedBug =
  /** The target seals a slot on the first page of its data: it serves before its import is complete. */
  | 'sealEarly'
  /** The source is never frozen (its data is read around the fence): it keeps accepting writes after the hand-off. */
  | 'skipFreeze';

export interface ReshardWorldOptions {
  readonly seed: number;
  readonly groups: number;
  readonly clients: number;
  /** Hash tags; each pins its keys to one slot, so the moves below carry data. */
  readonly tags: number;
  readonly keysPerTag: number;
  /** Each tag's slot moves this many times, to a random other group each time, `batch` slots per move. */
  readonly rounds: number;
  readonly batch: number;
  readonly exportPageKeys: number;
  readonly maxTicks: number;
  /** Per tick: coordinator crash, group restart, lost reply, stale-coordinator step, decision to abort a move. */
  readonly faults: { crash: number; restart: number; lostReply: number; stale: number; abort: number };
  readonly plant?: PlantedBug;
  /** Receives one line per slot-move command and its result, for reading a failing seed. */
  readonly trace?: (line: string) => void;
}

export const DEFAULT_WORLD: Omit<ReshardWorldOptions, 'seed'> = {
  groups: 3,
  clients: 4,
  tags: 6,
  keysPerTag: 3,
  rounds: 2,
  batch: 2,
  exportPageKeys: 2,
  maxTicks: 4000,
  faults: { crash: 0.03, restart: 0.02, lostReply: 0.1, stale: 0.05, abort: 0.02 },
};

export interface ReshardReport {
  readonly violations: string[];
  readonly lincheck: CheckResult['kind'];
  readonly ticks: number;
  readonly moves: number;
  /** Move attempts undone before the target served, then retried. */
  readonly aborts: number;
  /** Steps spent resolving moves left half-done by a stale coordinator or an abandoned attempt. */
  readonly strayResolutions: number;
  readonly operations: number;
  /** Writes whose outcome the client could not learn (a session the answering group did not know). */
  readonly unknownOutcomes: number;
  readonly faults: { crashes: number; restarts: number; lostReplies: number; staleSteps: number };
  /** Keys the live coordinator sent in pages the target applied, and how many of them the target held already. */
  readonly copy: { readonly keysSent: number; readonly keysResent: number };
}

/** One move: `slots` from one group to another, at `epoch` once started. */
interface Move {
  readonly slots: number[];
  readonly from: number;
  readonly to: number;
}

/**
 * What the coordinator records durably (as the operator records its operation in the RaftCluster status) before it
 * acts on it: the move it is on and that move's epoch. Not the copy's position: the target keeps that (its copy
 * cursor), and a coordinator that resumed after a crash goes on from it, as driveMove does. The phase is never
 * recorded: it is read off the groups, level-triggered, like any reconcile.
 */
interface Progress {
  move: number;
  epoch: number;
  /** The last key this instance copied, in memory only: where a stale instance's late page starts after. */
  after: Uint8Array | undefined;
  /** The coordinator decided to undo this attempt (say, the target looked unhealthy) and retry the move later. */
  aborting: boolean;
}

class Group {
  index = 0;
  constructor(
    readonly id: number,
    public machine: KvStateMachine,
    readonly trace?: (line: string) => void,
  ) {}
  apply(op: Operation, now: number, session?: SessionRef): CommandResult {
    const command = session === undefined ? { timestampMs: now, op } : { timestampMs: now, session, op };
    const result = this.machine.apply(++this.index, command).result;
    if (this.trace !== undefined && (op.kind === 'moveSlots' || op.kind === 'ingest')) {
      const what =
        op.kind === 'moveSlots'
          ? `${op.request.step} [${op.request.slots.join(',')}] peer ${op.request.peer} epoch ${op.request.epoch}`
          : `ingest ${op.kvs.length} keys from ${op.from} epoch ${op.epoch} seal [${op.seal.join(',')}]`;
      this.trace(`t${now} group ${this.id}: ${what} -> ${JSON.stringify(result)}`);
    }
    return result;
  }
  restart(): void {
    this.machine = KvStateMachine.restore(this.machine.snapshot(), kvStateMachineOptions());
  }
}

interface PendingOp {
  readonly input: KvInput;
  readonly call: number;
  /**
   * A write's session identity (client id per group, that group's next sequence). Once an attempt's outcome is
   * unknown (its reply was lost) every retry keeps it, wherever it goes: after a move the new owner holds the old
   * group's sessions and answers the retry from them. While every attempt was refused, a retry elsewhere may
   * take a fresh identity there.
   */
  identity?: SessionRef;
  uncertain: boolean;
  target: number;
}

export function runReshardWorld(options: ReshardWorldOptions): ReshardReport {
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const violations: string[] = [];
  const faults = { crashes: 0, restarts: 0, lostReplies: 0, staleSteps: 0 };
  const groups = Array.from(
    { length: options.groups },
    (_, id) =>
      new Group(
        id,
        new KvStateMachine(
          kvStateMachineOptions(undefined, 1, () => SlotOwnership.initial(id, options.groups)),
        ),
        options.trace,
      ),
  );
  const keys: string[] = [];
  const tagSlots: number[] = [];
  for (let t = 0; t < options.tags; t++) {
    tagSlots.push(keySlot(`t${t}`));
    for (let k = 0; k < options.keysPerTag; k++) keys.push(`{t${t}}k${k}`);
  }
  const slots = [...new Set(tagSlots)];

  // The plan: every slot moves `rounds` times to another group, `batch` slots with the same source and target at a
  // time, as the operator's planner would cut a reshard into batches.
  const owner = new Map(
    slots.map((slot) => [slot, groups.findIndex((g) => g.machine.ownership.serves(slot))]),
  );
  const moves: Move[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const bySourceTarget = new Map<string, number[]>();
    for (const slot of slots) {
      const from = owner.get(slot)!;
      const to = (from + 1 + Math.floor(random() * (options.groups - 1))) % options.groups;
      owner.set(slot, to);
      const key = `${from}>${to}`;
      bySourceTarget.set(key, [...(bySourceTarget.get(key) ?? []), slot]);
    }
    for (const [key, list] of bySourceTarget) {
      const [from, to] = key.split('>').map(Number) as [number, number];
      for (let i = 0; i < list.length; i += options.batch)
        moves.push({ slots: list.slice(i, i + options.batch), from, to });
    }
  }

  const recorded: Progress = { move: 0, epoch: 0, after: undefined, aborting: false };
  let live: Progress = { ...recorded };
  let stale: Progress | undefined;
  let tick = 0;

  /** Where a move stands, read off its groups (the coordinator's shared decision), planted bugs aside. */
  const observe = (move: Move, epoch: number): MovePhase => {
    const [slot] = move.slots as [number];
    const read = (group: number): SlotSide => {
      const ownership = groups[group]!.machine.ownership;
      return { state: ownership.stateOf(slot), epoch: ownership.moveEpochOf(slot) };
    };
    const phase = movePhase(read(move.from), read(move.to), epoch);
    if (options.plant === 'skipFreeze' && phase === 'freeze') return 'copy';
    if (options.plant === 'skipFreeze' && phase === 'release') return 'done';
    return phase;
  };

  /**
   * One action of a coordinator. The live one (`durable`) records a new move and its epoch before it starts it; a
   * stale one only repeats the step it was on: it has lost its lease and may have one request in flight, no more.
   */
  const coordinate = (progress: Progress, durable: boolean): void => {
    const move = moves[progress.move];
    if (move === undefined) return;
    if (progress.epoch === 0) {
      if (!durable) return;
      // A move's epoch is above every epoch any group has seen.
      progress.epoch = Math.max(...groups.map((g) => g.machine.ownership.epoch)) + 1;
      Object.assign(recorded, { move: progress.move, epoch: progress.epoch, after: undefined });
    }
    const source = groups[move.from]!;
    const target = groups[move.to]!;
    const step = (group: Group, s: SlotMoveRequest['step'], peer: number, epoch = progress.epoch): void => {
      group.apply({ kind: 'moveSlots', request: { step: s, slots: move.slots, peer, epoch } }, tick);
    };
    if (progress.aborting) {
      const [slot] = move.slots as [number];
      const read = (group: Group): SlotSide => ({
        state: group.machine.ownership.stateOf(slot),
        epoch: group.machine.ownership.moveEpochOf(slot),
      });
      switch (abortPhase(read(source), read(target), progress.epoch)) {
        case 'abortTarget':
          return step(target, 'abort', move.from);
        case 'abortSource':
          return step(source, 'abort', move.to);
        case 'aborted':
          if (!durable) return;
          aborts++;
          Object.assign(progress, { epoch: 0, after: undefined, aborting: false }); // retried at a new epoch
          Object.assign(recorded, progress);
          return;
        case 'tooLate':
          if (!durable) return;
          progress.aborting = false; // the target serves: finish the move instead
          recorded.aborting = false;
          return;
      }
    }
    const [first] = move.slots as [number];
    const sideOf = (group: Group): SlotSide => ({
      state: group.machine.ownership.stateOf(first),
      epoch: group.machine.ownership.moveEpochOf(first),
    });
    const stray = strayMove(sideOf(source), sideOf(target), progress.epoch);
    if (stray !== undefined) {
      const send = (group: Group, s: SlotMoveRequest['step'], peer: number): void =>
        step(group, s, peer, stray.epoch);
      strays++;
      if (stray.on === 'target') return send(target, 'abort', move.from);
      const peer = groups[source.machine.ownership.peerOf(first) ?? move.to]!;
      switch (abortPhase(sideOf(source), sideOf(peer), stray.epoch)) {
        case 'abortTarget':
          return send(peer, 'abort', source.id);
        case 'abortSource':
          return send(source, 'abort', peer.id);
        case 'tooLate':
          return send(source, 'release', peer.id);
        case 'aborted':
          return;
      }
    }
    const phase = observe(move, progress.epoch);
    if (durable && phase !== 'release' && phase !== 'done' && random() < options.faults.abort) {
      progress.aborting = true;
      recorded.aborting = true; // recorded before any abort step is sent
      return;
    }
    switch (phase) {
      case 'import':
        return step(target, 'import', move.from);
      case 'freeze':
        return step(source, 'freeze', move.to);
      case 'copy': {
        // The live coordinator goes on after the target's copy cursor (driveMove's rule); a stale one from where it
        // was, so its late page may repeat keys already in, which the target must absorb.
        const start = (durable ? target.machine.copyCursor(progress.epoch) : undefined) ?? progress.after;
        let kvs: readonly IngestedKey[];
        let more = false;
        if (options.plant === 'skipFreeze') {
          // Reads the source's data around the fence, while the source still serves and takes writes.
          kvs = exportAroundFence(source.machine, move.slots);
        } else {
          const page = source.machine.exportSlots({
            slots: move.slots,
            epoch: progress.epoch,
            after: start,
            maxKeys: options.exportPageKeys,
            maxBytes: 1 << 20,
          });
          if (!page.ok) return; // the groups moved on; the next observation says where to
          kvs = page.kvs;
          more = page.more;
        }
        const seal = !more || options.plant === 'sealEarly';
        const result = target.apply(
          {
            kind: 'ingest',
            from: move.from,
            epoch: progress.epoch,
            start: start === undefined ? { kind: 'first' } : { kind: 'after', key: start },
            kvs,
            seal: seal ? move.slots : [],
            sessions: seal ? source.machine.sessions() : [],
          },
          tick,
        );
        if (result.kind !== 'slots' || !result.ok) return;
        progress.after = kvs.at(-1)?.key ?? start;
        if (durable) {
          copy.keysSent += kvs.length;
          copy.keysResent += kvs.length - result.changed;
        }
        return;
      }
      case 'activate':
        return step(target, 'activate', move.from);
      case 'release':
        return step(source, 'release', move.to);
      case 'done':
        if (!durable) return;
        Object.assign(progress, { move: progress.move + 1, epoch: 0, after: undefined, aborting: false });
        Object.assign(recorded, progress);
        movesDone++;
        return;
    }
  };
  let movesDone = 0;
  let aborts = 0;
  let strays = 0;
  const copy = { keysSent: 0, keysResent: 0 };

  // Clients: each has one operation at a time, routes it by its own slot map, follows redirects.
  const history: HistoryOp<KvInput, KvOutput>[] = [];
  const routes = Array.from({ length: options.clients }, () => new Map<number, number>());
  const sequences = Array.from({ length: options.clients }, () => new Map<number, number>());
  const pending: (PendingOp | undefined)[] = Array.from({ length: options.clients }, () => undefined);
  let nextValue = 0;
  let unknownOutcomes = 0;
  const acknowledged = new Map<string, string>();

  const bootstrap = ShardMap.even(groups.map((g) => g.id));

  const attempt = (client: number, op: PendingOp): void => {
    const group = groups[op.target]!;
    const slot = keySlot(op.input.key);
    let result: CommandResult | { kind: 'value'; value: string | null };
    if (op.input.op === 'get') {
      const redirect = group.machine.fenceRead({ kind: 'key', key: new TextEncoder().encode(op.input.key) });
      result =
        redirect !== undefined ? { kind: 'wrongShard', redirect } : readValue(group.machine, op.input.key);
    } else {
      if (op.identity === undefined) {
        const next = (sequences[client]!.get(group.id) ?? 0) + 1;
        sequences[client]!.set(group.id, next);
        op.identity = { clientId: `c${client}@g${group.id}`, sequence: next };
      }
      const value = new TextEncoder().encode(op.input.op === 'put' ? op.input.value : '');
      result = group.apply(
        { kind: 'put', key: new TextEncoder().encode(op.input.key), value, prevKv: false },
        tick,
        op.identity,
      );
      if (result.kind === 'put' && random() < options.faults.lostReply) {
        faults.lostReplies++;
        op.uncertain = true;
        return; // applied, but the client never hears: it retries the same identity
      }
    }
    if (result.kind === 'wrongShard') {
      const hint = result.redirect.owner;
      op.target = hint !== undefined && hint !== op.target ? hint : (op.target + 1) % options.groups;
      routes[client]!.set(slot, op.target);
      if (!op.uncertain && op.identity !== undefined) {
        // Certainly not applied anywhere: the sequence is free again at its group (which would otherwise, never
        // having seen it, refuse the next one as an unknown session).
        sequences[client]!.set(group.id, op.identity.sequence - 1);
        delete op.identity;
      }
      return;
    }
    if (result.kind === 'sessionError') {
      // The group cannot tell whether an earlier attempt applied: the client reports the outcome as unknown.
      unknownOutcomes++;
      history.push({ client, input: op.input, call: op.call });
      pending[client] = undefined;
      return;
    }
    const output: KvOutput = result.kind === 'value' ? { op: 'get', value: result.value } : { op: 'put' };
    history.push({ client, input: op.input, call: op.call, output, return: tick });
    if (op.input.op === 'put') acknowledged.set(op.input.key, op.input.value);
    pending[client] = undefined;
  };

  const planDone = (): boolean => live.move >= moves.length;
  for (tick = 1; tick <= options.maxTicks; tick++) {
    // Faults.
    if (random() < options.faults.crash) {
      faults.crashes++;
      stale = live; // the old instance may still send the step it was on before it notices it lost its lease
      live = { ...recorded };
    }
    if (stale !== undefined && random() < options.faults.stale) {
      faults.staleSteps++;
      coordinate(stale, false);
      if (random() < 0.5) stale = undefined;
    }
    if (random() < options.faults.restart) {
      faults.restarts++;
      pick(groups).restart();
    }
    // The live coordinator: one action.
    coordinate(live, true);
    // Clients: while the plan runs, and a while after, so the last moves meet traffic too.
    for (let client = 0; client < options.clients; client++) {
      let op = pending[client];
      if (op === undefined) {
        if (planDone()) continue; // no new operations once the plan is done; pending ones finish
        const key = pick(keys);
        const input: KvInput =
          random() < 0.5 ? { op: 'put', key, value: `v${nextValue++}` } : { op: 'get', key };
        const slot = keySlot(key);
        op = {
          input,
          call: tick,
          target: routes[client]!.get(slot) ?? bootstrap.shardOfSlot(slot),
          uncertain: false,
        };
        pending[client] = op;
      }
      attempt(client, op);
    }
    // Single writer: after every tick, each slot is served by at most one group.
    for (const slot of slots) {
      const servers = groups.filter((g) => g.machine.ownership.serves(slot)).map((g) => g.id);
      if (servers.length > 1)
        violations.push(`tick ${tick}: slot ${slot} served by groups ${servers.join(' and ')}`);
    }
    if (violations.length > 0) break;
    if (planDone() && pending.every((op) => op === undefined) && tick > 200) break;
  }
  if (violations.length === 0 && !planDone()) {
    const move = moves[live.move]!;
    const states = [move.from, move.to].map((g) => {
      const o = groups[g]!.machine.ownership;
      return `group ${g}: ${o.stateOf(move.slots[0]!)} at epoch ${o.moveEpochOf(move.slots[0]!)}`;
    });
    violations.push(
      `the plan did not finish in ${options.maxTicks} ticks: move ${live.move} (${move.from} → ${move.to}, epoch ` +
        `${live.epoch}${live.aborting ? ', aborting' : ''}) stuck with ${states.join(', ')}`,
    );
  }
  if (violations.length === 0 && pending.some((op) => op !== undefined))
    violations.push('client operations never completed');

  // Every acknowledged write is readable at its key's owner, with the last acknowledged value or a later one.
  const end = ++tick;
  for (const key of keys) {
    const servers = groups.filter((g) => g.machine.ownership.serves(keySlot(key)));
    if (servers.length !== 1) {
      violations.push(`key ${key}: served by ${servers.length} groups at the end`);
      continue;
    }
    const { value } = readValue(servers[0]!.machine, key);
    history.push({
      client: options.clients,
      input: { op: 'get', key },
      call: end,
      output: { op: 'get', value },
      return: end,
    });
    if (acknowledged.has(key) && value === null)
      violations.push(`key ${key}: acknowledged write ${acknowledged.get(key)} lost`);
  }
  const lincheck = checkLinearizable(kvModel, history, { budgetSteps: 2_000_000 });
  if (lincheck.kind === 'violation') violations.push(`linearizability: ${lincheck.explanation}`);
  return {
    violations,
    lincheck: lincheck.kind,
    ticks: tick,
    moves: movesDone,
    aborts,
    strayResolutions: strays,
    operations: history.length,
    unknownOutcomes,
    faults,
    copy,
  };
}

function readValue(machine: KvStateMachine, key: string): { kind: 'value'; value: string | null } {
  const kv = machine.get(key);
  return { kind: 'value', value: kv === undefined ? null : new TextDecoder().decode(kv.value) };
}

/** The planted bug's export: every key of the slots, read while the source still serves them. */
function exportAroundFence(machine: KvStateMachine, slots: readonly number[]): IngestedKey[] {
  const all = machine.range(
    { kind: 'prefix', prefix: new Uint8Array(0) },
    { limit: 0, keysOnly: false, countOnly: false },
  );
  return all.kvs
    .filter((kv) => slots.includes(keySlot(kv.key)))
    .map((kv) => ({ key: kv.key, value: kv.value, version: kv.version }));
}
