// A chaos client of a sharded cluster: each operation goes to the shard that serves its key's slot, through
// whichever member the client is connected to (a member of another shard forwards it), with that shard's session.
// The decisions are slot-routes.ts's; this file does the calls. A client's identity (routes, one session per shard)
// outlives its connections, as KvSession's sequence does in a cluster of one shard.
import type { ShardMap } from '../shared/sharding/shard-map.js';
import { keySlot } from '../shared/sharding/slot.js';
import { KvCallError, KvSession, SequenceSource } from './kv-session.js';
import {
  nextAttempt,
  ROUTE_BUDGET,
  SlotRoutes,
  type RouteBudget,
  type SlotMapAnswer,
} from './slot-routes.js';

/** What a workload client calls: one member's KV API, as KvSession offers it for a cluster of one shard. */
export interface KvOps {
  readonly endpoint: string;
  put(key: string, value: string): Promise<void>;
  get(key: string): Promise<string | null>;
  cas(key: string, expected: string | null, value: string): Promise<boolean>;
  close(): void;
}

/** The group refused the session (its first request never applied there): only a new client id gets through. */
const SESSION_UNKNOWN = /no session for client/;

/** Routes are looked up from the members at most this often per client (a failure marks them stale). */
const REFRESH_INTERVAL_MS = 1000;

/** How often a client's operations met slots in motion or elsewhere: evidence the workload crossed the moves. */
export interface RoutingCounts {
  movingWaits: number;
  redirectsFollowed: number;
  refreshes: number;
  sessionsRenewed: number;
}

interface ShardIdentity {
  readonly clientId: string;
  readonly sequence: SequenceSource;
}

/** One client's routing state and per-shard sessions, shared by all its connections. */
export class RoutedClient {
  readonly routes: SlotRoutes;
  readonly counts: RoutingCounts = { movingWaits: 0, redirectsFollowed: 0, refreshes: 0, sessionsRenewed: 0 };
  private readonly identities = new Map<number, ShardIdentity>();
  private stale = false;
  private lastRefreshMs = -Infinity;

  constructor(
    readonly baseId: string,
    creation: ShardMap,
    /** Members to ask for their slots when the routes are stale. */
    private readonly members: () => readonly string[],
    readonly deadlineMs: number,
    readonly budget: RouteBudget = ROUTE_BUDGET,
    readonly now: () => number = Date.now,
  ) {
    this.routes = new SlotRoutes(creation);
  }

  /** The session this client uses with `shard`'s group: its own client id there, its own sequence. */
  identity(shard: number): ShardIdentity {
    let id = this.identities.get(shard);
    if (id === undefined) {
      id = { clientId: `${this.baseId}/s${shard}`, sequence: new SequenceSource() };
      this.identities.set(shard, id);
    }
    return id;
  }

  /**
   * A group refuses every write of a session whose first write it never applied (sequence > 1, no session): start
   * a new one. Sound: a write of the old session that might still apply was recorded as unknown.
   */
  renew(shard: number): void {
    this.counts.sessionsRenewed += 1;
    this.identities.set(shard, {
      clientId: `${this.baseId}/s${shard}r${this.counts.sessionsRenewed}`,
      sequence: new SequenceSource(),
    });
  }

  markStale(): void {
    this.stale = true;
  }

  /** Asks every member for its group's slots when the routes are stale (bounded: one deadline, rate-limited). */
  async refreshIfStale(force = false): Promise<void> {
    if (!this.stale && !force) return;
    const wait = this.lastRefreshMs + REFRESH_INTERVAL_MS - this.now();
    if (wait > 0) {
      if (!force) return;
      // A forced refresh (the routes led nowhere) waits its turn rather than re-sending on the same routes.
      await new Promise((r) => setTimeout(r, wait));
    }
    this.lastRefreshMs = this.now();
    this.counts.refreshes += 1;
    const answers = await Promise.allSettled(
      this.members().map(async (endpoint): Promise<SlotMapAnswer> => {
        const session = new KvSession(endpoint, `${this.baseId}/map`, this.deadlineMs, new SequenceSource());
        try {
          return await session.slotMap();
        } finally {
          session.close();
        }
      }),
    );
    const got = answers.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
    this.routes.adoptClaims(got);
    if (got.length > 0) this.stale = false;
  }
}

export class RoutedKv implements KvOps {
  /** Per shard, the session to this member (recreated when the client renews its identity there). */
  private readonly sessions = new Map<number, KvSession>();

  constructor(
    readonly endpoint: string,
    private readonly client: RoutedClient,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  put(key: string, value: string): Promise<void> {
    return this.routed(key, (s) => s.put(key, value));
  }

  get(key: string): Promise<string | null> {
    return this.routed(key, (s) => s.get(key));
  }

  cas(key: string, expected: string | null, value: string): Promise<boolean> {
    return this.routed(key, (s) => s.cas(key, expected, value));
  }

  close(): void {
    for (const s of this.sessions.values()) s.close();
    this.sessions.clear();
  }

  private session(shard: number): KvSession {
    const id = this.client.identity(shard);
    const existing = this.sessions.get(shard);
    if (existing?.clientId === id.clientId) return existing;
    existing?.close();
    const session = new KvSession(this.endpoint, id.clientId, this.client.deadlineMs, id.sequence, shard);
    this.sessions.set(shard, session);
    return session;
  }

  /**
   * Sends the operation to the shard the routes name, following slot refusals within the budget. Throws the last
   * failure when it stops: the caller records a write that failed as unknown, whatever the reason.
   */
  private async routed<T>(key: string, run: (session: KvSession) => Promise<T>): Promise<T> {
    const c = this.client;
    await c.refreshIfStale();
    const slot = keySlot(key);
    const movingDeadline = c.now() + c.budget.movingBudgetMs;
    let reroutes = 0;
    let pauseMs = 25;
    for (;;) {
      const shard = c.routes.ownerOf(slot);
      try {
        return await run(this.session(shard));
      } catch (err) {
        const refusal = err instanceof KvCallError ? err.refusal : undefined;
        const next = nextAttempt(
          refusal,
          { shard, reroutes, pauseMs, leftMs: movingDeadline - c.now() },
          c.budget,
        );
        switch (next.kind) {
          case 'giveUp':
            if (err instanceof KvCallError && SESSION_UNKNOWN.test(err.message)) c.renew(shard);
            c.markStale();
            throw err;
          case 'wait':
            c.counts.movingWaits += 1;
            await this.sleep(next.pauseMs);
            pauseMs = Math.min(pauseMs * 2, c.budget.pauseMaxMs);
            break;
          case 'reroute':
            reroutes += 1;
            c.counts.redirectsFollowed += 1;
            if (next.owner !== undefined) c.routes.learn(slot, next.owner);
            else await c.refreshIfStale(true);
            break;
        }
      }
    }
  }
}
