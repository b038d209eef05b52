// Drives one batch of slots from a source group to a target group to the end: the coordinator's loop around the
// decisions of move-phase.ts. Level-triggered: every round reads both groups' record of the batch (leader reads)
// and sends the one step that record calls for, so it can be stopped anywhere and started again — by the same
// coordinator or another one — with the same epoch and picks up where the groups are. Only the epoch must be kept
// across a restart (and chosen above every epoch either group has seen, before the first step). Not even the copy's
// position: the target records how far the copy has come (its copy cursor, node/src/kv/copy-cursors.ts) and the
// copy goes on after it, so a coordinator that takes over mid-copy sends only the pages the target has not applied.
//
// I/O goes through `SlotGroups`: gRPC to the groups' leaders in production (the operator), direct calls in tests.

import { abortPhase, movePhase, strayMove, type SlotSide } from './move-phase.js';

/** "No other group" in a slot's record: the slot was never moved. */
export const NO_PEER = 0xffff_ffff;

export interface SlotRecord extends SlotSide {
  readonly peer: number;
  /**
   * The target's copy cursor, while the slot is importing: the last key of the source's export it has ingested with
   * every key before it. Undefined before the copy's first page, or from a group that does not keep one.
   */
  readonly copyCursor?: Uint8Array;
}

export interface ExportedKey {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly version: number;
}

/** A page of a frozen batch's keys; refused (ok false) when the source does not hold the batch frozen at that epoch. */
export type ExportPage =
  | {
      readonly ok: true;
      readonly kvs: readonly ExportedKey[];
      readonly more: boolean;
      readonly sessions: Uint8Array;
    }
  | { readonly ok: false; readonly reason: string };

export interface StepOutcome {
  readonly ok: boolean;
  readonly reason: string;
}

/**
 * The slot steps a coordinator sends (seal rides on the last ingested page). `repoint` is not part of a move: it
 * corrects where a group believes slots it gave away now live (node/src/sharding/slot-ownership.ts).
 */
export type CoordinatorStep = 'import' | 'freeze' | 'activate' | 'release' | 'abort' | 'repoint';

/** One call per RPC of the Cluster service's slot-move API, addressed by shard. */
export interface SlotGroups {
  /** The group's highest epoch, and its record of each of `slots`. */
  status(shard: number, slots: readonly number[]): Promise<{ epoch: number; records: SlotRecord[] }>;
  step(
    shard: number,
    step: CoordinatorStep,
    slots: readonly number[],
    peer: number,
    epoch: number,
  ): Promise<StepOutcome>;
  exportPage(
    shard: number,
    slots: readonly number[],
    epoch: number,
    after: Uint8Array | undefined,
  ): Promise<ExportPage>;
  /** `after` is where the page starts: the `after` it was exported with (undefined: the first page). */
  ingest(
    shard: number,
    from: number,
    epoch: number,
    kvs: readonly ExportedKey[],
    seal: readonly number[],
    sessions: Uint8Array,
    after: Uint8Array | undefined,
  ): Promise<StepOutcome>;
}

export interface MoveBatch {
  readonly slots: readonly number[];
  readonly from: number;
  readonly to: number;
}

export interface MoveReport {
  /**
   * Keys this call sent in pages the target applied. A call that resumed a copy another call had begun counts only
   * the keys after the target's copy cursor: the rest were in already and are not sent again.
   */
  readonly keysCopied: number;
  /** Pages this call sent that the target applied. */
  readonly pages: number;
  /** Rounds spent resolving a half-done move of another epoch first. */
  readonly strays: number;
  /** From the freeze to the target serving: how long writes to the batch's slots were refused. */
  readonly pauseMs: number;
}

export class MoveStuckError extends Error {
  override readonly name = 'MoveStuckError';
}

/** An epoch new to both groups: a move must start above every epoch either has seen. */
export async function nextEpoch(groups: SlotGroups, batch: MoveBatch): Promise<number> {
  const [a, b] = await Promise.all([
    groups.status(batch.from, batch.slots.slice(0, 1)),
    groups.status(batch.to, batch.slots.slice(0, 1)),
  ]);
  return Math.max(a.epoch, b.epoch) + 1;
}

/**
 * Runs the batch's move at `epoch` until the target serves its slots and the source dropped them. `maxRounds`
 * bounds it: a step the groups keep refusing (they moved on in a way this move cannot resolve) ends in
 * MoveStuckError, never a loop. `now` is injected for the pause figure.
 */
export async function driveMove(
  groups: SlotGroups,
  batch: MoveBatch,
  epoch: number,
  options: { maxRounds?: number; now?: () => number } = {},
): Promise<MoveReport> {
  const now = options.now ?? Date.now;
  const maxRounds = options.maxRounds ?? 10_000;
  const { slots, from, to } = batch;
  const first = slots.slice(0, 1);
  let after: Uint8Array | undefined;
  let keysCopied = 0;
  let pages = 0;
  let strays = 0;
  let frozenAt: number | undefined;
  let servedAt: number | undefined;
  let lastRefusal = '';
  const side = (r: SlotRecord | undefined): SlotRecord => r ?? { state: 'absent', epoch: 0, peer: NO_PEER };

  for (let round = 0; round < maxRounds; round++) {
    // Every slot of a batch changes state in one command, so the first slot speaks for the batch.
    const [src, dst] = await Promise.all([groups.status(from, first), groups.status(to, first)]);
    const source = side(src.records[0]);
    const target = side(dst.records[0]);
    const stray = strayMove(source, target, epoch);
    let outcome: StepOutcome | undefined;
    if (stray !== undefined) {
      strays++;
      if (stray.on === 'target') {
        outcome = await groups.step(
          to,
          'abort',
          slots,
          target.peer === NO_PEER ? from : target.peer,
          stray.epoch,
        );
      } else {
        // A freeze of another move in the source: resolve it with the group its record names.
        const peer = source.peer === NO_PEER ? to : source.peer;
        const peerSide = side((await groups.status(peer, first)).records[0]);
        switch (abortPhase(source, peerSide, stray.epoch)) {
          case 'abortTarget':
            outcome = await groups.step(peer, 'abort', slots, from, stray.epoch);
            break;
          case 'abortSource':
            outcome = await groups.step(from, 'abort', slots, peer, stray.epoch);
            break;
          case 'tooLate':
            outcome = await groups.step(from, 'release', slots, peer, stray.epoch);
            break;
          case 'aborted':
            break;
        }
      }
    } else {
      switch (movePhase(source, target, epoch)) {
        case 'import':
          outcome = await groups.step(to, 'import', slots, from, epoch);
          break;
        case 'freeze':
          outcome = await groups.step(from, 'freeze', slots, to, epoch);
          frozenAt ??= now();
          break;
        case 'copy': {
          frozenAt ??= now();
          // After the target's own record of what it holds, read this round: a page another coordinator sent is
          // not sent again. This call's position is the fallback for a target that keeps no cursor (a member of
          // an older version, or one restored from an older snapshot); both are positions up to which every key
          // is in, so either is a safe place to go on from.
          const start = target.copyCursor ?? after;
          const page = await groups.exportPage(from, slots, epoch, start);
          if (!page.ok) {
            outcome = page; // the groups moved on: the next round reads where to
            break;
          }
          const seal = page.more ? [] : slots;
          outcome = await groups.ingest(
            to,
            from,
            epoch,
            page.kvs,
            seal,
            page.more ? new Uint8Array() : page.sessions,
            start,
          );
          if (outcome.ok) {
            pages++;
            keysCopied += page.kvs.length;
            after = page.kvs.at(-1)?.key ?? start;
          }
          break;
        }
        case 'activate':
          outcome = await groups.step(to, 'activate', slots, from, epoch);
          break;
        case 'release':
          servedAt ??= now();
          outcome = await groups.step(from, 'release', slots, to, epoch);
          break;
        case 'done':
          servedAt ??= now();
          return { keysCopied, pages, strays, pauseMs: frozenAt === undefined ? 0 : servedAt - frozenAt };
      }
    }
    if (outcome !== undefined && !outcome.ok) lastRefusal = outcome.reason;
  }
  throw new MoveStuckError(
    `the move of ${slots.length} slot(s) from shard ${from} to shard ${to} at epoch ${epoch} did not finish in ${maxRounds} rounds${lastRefusal !== '' ? ` (last refusal: ${lastRefusal})` : ''}`,
  );
}
