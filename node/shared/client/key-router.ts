// Client-side routing by hash slot. A client that uses sessions (at-most-once retries) must send each write to the
// group whose session table holds its session, so it names the shard itself (shard_id set) instead of letting a
// member route the key: it keeps the slot map a member gave it, asks the shard that map names, and on a wrong-shard
// answer (nothing was applied) learns the owner from the redirect — or fetches the map again — and asks there, with
// that shard's session. While a slot moves, the answer is UNAVAILABLE with a "moving" redirect: nothing was applied,
// and the router waits and asks again, with backoff, for up to `movingBudgetMs` (a move pauses a batch's writes for
// a bounded time, longer on a loaded machine than the failover client's few quick retries cover).

import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { RequestHeader } from '../api/generated/raftstore/v1/common.js';
import type { SlotMapResponse } from '../api/generated/raftstore/v1/kv.js';
import { keySlot, SLOT_COUNT } from '../sharding/slot.js';
import { unary, type FailoverClient } from './failover-client.js';
import { groupViews } from './fan-out.js';
import { unreachableShardOf } from './shard-unreachable.js';
import { slotRedirectOf } from './slot-redirect.js';

/** A request that keeps meeting wrong-shard answers is given up after this many shards. */
const MAX_REROUTES = 4;

interface Redirect {
  readonly slot: number;
  readonly owner?: number;
}

/** Whether `err` is the refusal of a slot in motion (UNAVAILABLE with a redirect that says moving). */
export function isSlotMoving(err: unknown): boolean {
  return (err as Partial<ServiceError>).code === status.UNAVAILABLE && slotRedirectOf(err)?.moving === true;
}

export interface KeyRouterOptions {
  /** How long one call keeps retrying a slot in motion before it fails with the last refusal. Default 10 s. */
  readonly movingBudgetMs?: number;
  /** A slot map already known (SlotMap's ranges), so the first call need not fetch one. */
  readonly initialMap?: readonly { start: number; end: number; shard: number }[];
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The redirect of a wrong-shard refusal (FAILED_PRECONDITION with the trailer), if `err` is one. */
export function wrongShardRedirect(err: unknown): Redirect | undefined {
  if ((err as Partial<ServiceError>).code !== status.FAILED_PRECONDITION) return undefined;
  const r = slotRedirectOf(err);
  if (r === undefined) return undefined;
  return r.owner !== undefined ? { slot: r.slot, owner: r.owner } : { slot: r.slot };
}

function ownersOf(ranges: readonly { start: number; end: number; shard: number }[]): Uint32Array {
  const owners = new Uint32Array(SLOT_COUNT);
  for (const r of ranges) owners.fill(r.shard, r.start, r.end + 1);
  return owners;
}

export class KeyRouter {
  private owners: Uint32Array | undefined;
  private readonly movingBudgetMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly client: FailoverClient,
    options: KeyRouterOptions = {},
  ) {
    this.movingBudgetMs = options.movingBudgetMs ?? 10_000;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    if (options.initialMap !== undefined) this.owners = ownersOf(options.initialMap);
  }

  /** Fetches the slot map from a member (any member: its own slots exactly, the rest as hints). */
  async refresh(): Promise<void> {
    const map = await this.client.kv((c, deadline) =>
      unary<SlotMapResponse>((cb) => c.slotMap({}, new Metadata(), { deadline }, cb)),
    );
    this.owners = ownersOf(map.ranges);
  }

  /**
   * Looks the owners up from the groups themselves: every group's own view (each serves its own slots exactly),
   * over the asked member's hints. For when a hint led to a shard no member can reach, say one a reshard retired:
   * the group that gave a slot away remembers where it went, not where it went after that.
   */
  async refreshFromGroups(): Promise<void> {
    const { views } = await groupViews(this.client, true);
    const owners = ownersOf(views[0]?.ranges ?? []);
    for (const view of views) {
      for (const r of view.ranges) if (r.shard === view.shardId) owners.fill(r.shard, r.start, r.end + 1);
    }
    this.owners = owners;
  }

  async shardOfSlot(slot: number): Promise<number> {
    if (this.owners === undefined) await this.refresh();
    return this.owners![slot] ?? 0;
  }

  /**
   * Runs `call` against the shard that owns `key`'s slot; `call` gets the shard and a session header made once for
   * that shard (so the failover client's retries of it are the same write). On a wrong-shard answer it goes to the
   * owner named, or the owner a fresh map names.
   */
  call<T>(
    key: Uint8Array | string,
    call: (shardId: number, header: RequestHeader) => Promise<T>,
  ): Promise<T> {
    return this.route(key, (shard) => call(shard, this.client.nextHeader(shard)));
  }

  /**
   * Like `call` for a read, which carries no session header: none is taken, so the sequence of the client's next
   * write stays where the group expects it (a group refuses a new client whose first write is not sequence 1).
   */
  read<T>(key: Uint8Array | string, call: (shardId: number) => Promise<T>): Promise<T> {
    return this.route(key, call);
  }

  private async route<T>(key: Uint8Array | string, call: (shardId: number) => Promise<T>): Promise<T> {
    const slot = keySlot(key);
    const movingDeadline = this.now() + this.movingBudgetMs;
    let pauseMs = 25;
    let lastError: unknown;
    for (let reroutes = 0; reroutes < MAX_REROUTES;) {
      const shard = await this.shardOfSlot(slot);
      try {
        return await call(shard);
      } catch (err) {
        if (isSlotMoving(err) && this.now() + pauseMs < movingDeadline) {
          // Not applied; the move ends in a bounded time, and then the slot's owner (maybe another shard) answers.
          lastError = err;
          await this.sleep(pauseMs);
          pauseMs = Math.min(pauseMs * 2, 500);
          continue;
        }
        reroutes++;
        if (unreachableShardOf(err) === shard) {
          // Sent nowhere (no member of that shard could be reached): ask the groups who serves the slot now.
          lastError = err;
          await this.refreshFromGroups();
          continue;
        }
        const redirect = wrongShardRedirect(err);
        if (redirect === undefined) throw err;
        lastError = err;
        if (redirect.owner !== undefined && redirect.owner !== shard && this.owners !== undefined) {
          this.owners[slot] = redirect.owner;
        } else {
          await this.refresh();
        }
      }
    }
    throw lastError;
  }
}
