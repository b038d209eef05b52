// Leader election on a coordination.k8s.io/v1 Lease, following client-go's leaderelection:
// - a candidate takes the Lease when it does not exist, is released (holder ""), or its holder has not renewed it
//   for leaseDurationSeconds of *our* clock since we last saw it change (no trust in the other replica's clock);
// - the leader renews every retryPeriod; if it cannot renew for renewDeadline it stops leading (before a standby
//   may take over, since renewDeadline < leaseDuration);
// - on shutdown the leader releases the Lease so the standby takes over at once.
// Updates are optimistic (resourceVersion): of two candidates racing for an expired Lease, one gets a conflict.
import { errorMessage } from '../util/timeout.js';

export interface LeaseRecord {
  /** "" when released. */
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: string | undefined;
  renewTime: string | undefined;
  leaseTransitions: number;
  /** Opaque version for optimistic concurrency; "" for a record not stored yet. */
  resourceVersion: string;
}

/** The Lease as stored in the API server; each call has its own deadline. */
export interface LeaseStore {
  /** undefined when the Lease does not exist. */
  get(): Promise<LeaseRecord | undefined>;
  create(record: LeaseRecord): Promise<LeaseRecord>;
  /** Fails when record.resourceVersion is not the stored one. */
  update(record: LeaseRecord): Promise<LeaseRecord>;
}

export interface ElectionClock {
  /** Monotonic milliseconds, for expiry. */
  nowMs(): number;
  /** Wall time for the Lease's acquireTime/renewTime. */
  nowIso(): string;
}

export interface ElectionTiming {
  leaseDurationSeconds: number;
  renewDeadlineSeconds: number;
  retryPeriodSeconds: number;
}

export type Decision =
  | { kind: 'create'; record: LeaseRecord }
  | { kind: 'update'; record: LeaseRecord }
  | { kind: 'wait'; holder: string; expiresInMs: number };

/** When we last saw the stored record change (by resourceVersion), on our own clock. */
export interface Observed {
  resourceVersion: string;
  atMs: number;
}

/** Pure: what to do with the Lease as found. */
export function decide(
  current: LeaseRecord | undefined,
  observed: Observed | undefined,
  identity: string,
  nowMs: number,
  nowIso: string,
  timing: ElectionTiming,
): Decision {
  if (identity === '') throw new Error('leader election: empty identity');
  if (current === undefined) {
    return {
      kind: 'create',
      record: {
        holderIdentity: identity,
        leaseDurationSeconds: timing.leaseDurationSeconds,
        acquireTime: nowIso,
        renewTime: nowIso,
        leaseTransitions: 0,
        resourceVersion: '',
      },
    };
  }
  const heldByOther = current.holderIdentity !== '' && current.holderIdentity !== identity;
  if (heldByOther) {
    // Seen for the first time (or changed just now): the holder gets a full lease duration from now.
    const since = observed?.resourceVersion === current.resourceVersion ? observed.atMs : nowMs;
    const expiresInMs = since + current.leaseDurationSeconds * 1000 - nowMs;
    if (expiresInMs > 0) return { kind: 'wait', holder: current.holderIdentity, expiresInMs };
  }
  const takingOver = current.holderIdentity !== identity;
  return {
    kind: 'update',
    record: {
      ...current,
      holderIdentity: identity,
      leaseDurationSeconds: timing.leaseDurationSeconds,
      renewTime: nowIso,
      acquireTime: takingOver ? nowIso : current.acquireTime,
      leaseTransitions: takingOver ? current.leaseTransitions + 1 : current.leaseTransitions,
    },
  };
}

export interface ElectorHooks {
  onStartedLeading(): void;
  /** Called once when leadership is lost (not on a voluntary release). */
  onStoppedLeading(reason: string): void;
  /** Each failed attempt (for logging); the loop keeps trying. */
  onAttemptFailed?(error: string): void;
  onWaiting?(holder: string): void;
}

export class LeaderElector {
  private observed: Observed | undefined;
  private lastRecord: LeaseRecord | undefined;
  private leading = false;
  private lastRenewMs = -Infinity;

  constructor(
    private readonly store: LeaseStore,
    private readonly identity: string,
    private readonly timing: ElectionTiming,
    private readonly clock: ElectionClock,
    private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>,
    private readonly hooks: ElectorHooks,
  ) {
    if (!(
      timing.leaseDurationSeconds > timing.renewDeadlineSeconds &&
      timing.renewDeadlineSeconds > timing.retryPeriodSeconds &&
      timing.retryPeriodSeconds > 0
    )) {
      throw new Error(
        `leader election timing ${JSON.stringify(timing)}: need duration > deadline > retry > 0`,
      );
    }
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** One attempt to acquire or renew. True when we hold the Lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.clock.nowMs();
    let current: LeaseRecord | undefined;
    try {
      current = await this.store.get();
    } catch (err) {
      this.hooks.onAttemptFailed?.(`reading the Lease: ${errorMessage(err)}`);
      return false;
    }
    if (current !== undefined && current.resourceVersion !== this.observed?.resourceVersion) {
      this.observed = { resourceVersion: current.resourceVersion, atMs: now };
    }
    const d = decide(current, this.observed, this.identity, now, this.clock.nowIso(), this.timing);
    if (d.kind === 'wait') {
      this.hooks.onWaiting?.(d.holder);
      return false;
    }
    try {
      const stored =
        d.kind === 'create' ? await this.store.create(d.record) : await this.store.update(d.record);
      this.lastRecord = stored;
      this.observed = { resourceVersion: stored.resourceVersion, atMs: this.clock.nowMs() };
      this.lastRenewMs = now;
      return true;
    } catch (err) {
      this.hooks.onAttemptFailed?.(
        `${d.kind === 'create' ? 'creating' : 'updating'} the Lease: ${errorMessage(err)}`,
      );
      return false;
    }
  }

  /**
   * Campaigns until it leads, then renews until leadership is lost or `signal` aborts. Returns when either happens;
   * onStoppedLeading has been called if leadership was lost.
   */
  async run(signal: AbortSignal): Promise<void> {
    const retryMs = this.timing.retryPeriodSeconds * 1000;
    while (!signal.aborted && !this.leading) {
      if (await this.tryAcquireOrRenew()) {
        this.leading = true;
        this.hooks.onStartedLeading();
        break;
      }
      await this.sleep(retryMs, signal);
    }
    while (!signal.aborted && this.leading) {
      await this.sleep(retryMs, signal);
      if (signal.aborted) break;
      const ok = await this.tryAcquireOrRenew();
      if (ok) continue;
      const sinceRenewMs = this.clock.nowMs() - this.lastRenewMs;
      if (sinceRenewMs >= this.timing.renewDeadlineSeconds * 1000) {
        this.leading = false;
        this.hooks.onStoppedLeading(
          `could not renew the Lease for ${Math.round(sinceRenewMs / 1000)} s (renew deadline ${this.timing.renewDeadlineSeconds} s)`,
        );
      } else if (this.lastRecord !== undefined && (await this.lostToOther())) {
        this.leading = false;
        this.hooks.onStoppedLeading('another replica holds the Lease');
      }
    }
  }

  /** Gives the Lease up (on shutdown) so a standby takes over at once. Best effort, bounded by the store. */
  async release(): Promise<boolean> {
    if (!this.leading || this.lastRecord === undefined) return false;
    this.leading = false;
    try {
      const current = await this.store.get();
      if (current === undefined || current.holderIdentity !== this.identity) return false;
      await this.store.update({
        ...current,
        holderIdentity: '',
        leaseDurationSeconds: 1,
        renewTime: this.clock.nowIso(),
      });
      return true;
    } catch (err) {
      this.hooks.onAttemptFailed?.(`releasing the Lease: ${errorMessage(err)}`);
      return false;
    }
  }

  private async lostToOther(): Promise<boolean> {
    try {
      const current = await this.store.get();
      return current !== undefined && current.holderIdentity !== this.identity;
    } catch {
      return false;
    }
  }
}
