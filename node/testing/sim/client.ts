// A simulated client: one operation at a time, each with a unique id and (for writes) a unique value, so the
// checker can tell every write apart. Writes go to the member the client believes leads; a refusal or a redirect
// is retried with the same request id (nothing was proposed), as is a proposal whose index another entry took (it
// can never commit). A proposal whose fate cannot be known (the member crashed) and an operation not answered
// before its deadline end with an unknown outcome: the client records that and moves on, never re-sending it.
// Reads use ReadIndex on the leader or on any follower; re-asking a read has no side effect, so reads retry freely.
import type { NodeId } from '../../src/raft/index.js';
import type { Operation } from '../lincheck/history.js';
import type { KvInput, KvOutput } from '../lincheck/kv-model.js';
import type { Prng } from '../../src/random/prng.js';
import type { SimNode, SubmitResult, WriteOutcome } from './sim-node.js';

export interface ClientSettings {
  readonly keys: readonly string[];
  /** An operation not answered within this many ms gets an unknown outcome. */
  readonly timeoutMs: number;
  /** Pause between a refusal and the next attempt. */
  readonly retryMs: number;
  /** A read not answered within this many ms is asked again (of another member, maybe). */
  readonly readRetryMs: number;
  /** Pause between operations is uniform in [0, thinkMaxMs]. */
  readonly thinkMaxMs: number;
}

/** What a client sees of the cluster: the members it can address (never the wiped ones). */
export interface ClientEnv {
  memberIds(): readonly NodeId[];
  node(id: NodeId): SimNode | undefined;
  record(op: Operation<KvInput, KvOutput>): void;
  trace(text: string): void;
}

interface CurrentOp {
  readonly req: string;
  readonly input: KvInput;
  readonly call: number;
  readonly deadline: number;
  /** Writes: a proposal is in flight on this member; wait for its outcome. */
  proposedOn: NodeId | undefined;
  attempts: number;
}

export class SimClient {
  private op: CurrentOp | undefined;
  private seq = 0;
  private leaderGuess: NodeId | undefined;
  /** The last value this client saw per key: compare-and-set expects it, so some succeed. */
  private readonly lastSeen = new Map<string, string | null>();
  nextActionAt: number;
  completed = 0;
  unknown = 0;
  /** Simulated time of the last answered operation (liveness: the healed cluster must serve again). */
  lastCompletionAt = -1;

  constructor(
    readonly id: number,
    private readonly rng: Prng,
    private readonly settings: ClientSettings,
    private readonly env: ClientEnv,
    startAt: number,
  ) {
    this.nextActionAt = startAt;
  }

  busy(): boolean {
    return this.op !== undefined;
  }

  /** Called when `now` ≥ nextActionAt. `issueNew` is false once the run winds down. */
  act(now: number, issueNew: boolean): void {
    if (this.op === undefined) {
      if (!issueNew) {
        this.nextActionAt = Infinity;
        return;
      }
      this.begin(now);
    }
    const op = this.op!;
    if (now >= op.deadline) {
      this.giveUp(now, 'timed out');
      return;
    }
    if (op.proposedOn !== undefined) {
      this.nextActionAt = op.deadline;
      return;
    }
    this.attempt(op, now);
  }

  private begin(now: number): void {
    const s = this.settings;
    const key = this.rng.pick(s.keys);
    const req = `c${this.id}.${++this.seq}`;
    const r = this.rng.float();
    let input: KvInput;
    if (r < 0.4) input = { op: 'get', key };
    else if (r < 0.7) input = { op: 'put', key, value: req };
    else if (r < 0.9) {
      const expected = this.rng.chance(0.85)
        ? (this.lastSeen.get(key) ?? null)
        : `c${this.id}.${this.rng.int(1, this.seq)}`;
      input = { op: 'cas', key, expected, value: req };
    } else input = { op: 'delete', key };
    this.op = { req, input, call: now, deadline: now + s.timeoutMs, proposedOn: undefined, attempts: 0 };
    this.env.trace(`client ${this.id} invoke ${req} ${describeInput(input)}`);
  }

  private target(): NodeId | undefined {
    const ids = this.env.memberIds();
    if (ids.length === 0) return undefined;
    if (this.leaderGuess !== undefined && ids.includes(this.leaderGuess)) return this.leaderGuess;
    return this.rng.pick(ids);
  }

  private attempt(op: CurrentOp, now: number): void {
    const s = this.settings;
    op.attempts++;
    const input = op.input;
    // Reads go to a follower now and then: follower reads must be linearizable too.
    const targetId = input.op === 'get' && this.rng.chance(0.4) ? this.randomMember() : this.target();
    const node = targetId === undefined ? undefined : this.env.node(targetId);
    if (node === undefined || targetId === undefined) {
      this.nextActionAt = now + s.retryMs;
      return;
    }
    let res: SubmitResult;
    if (input.op === 'get') {
      const readId = `${op.req}#${op.attempts}`;
      res = node.submitRead(readId, input.key);
      if (this.op !== op) return; // answered synchronously
      if (res.kind === 'submitted') {
        this.nextActionAt = Math.min(op.deadline, now + s.readRetryMs);
        return;
      }
    } else {
      res = node.submitWrite({ req: op.req, client: this.id, input });
      if (this.op !== op) return; // answered synchronously (e.g. a single-voter cluster)
      if (res.kind === 'submitted') {
        op.proposedOn = targetId;
        this.leaderGuess = targetId;
        this.env.trace(`client ${this.id} ${op.req} proposed on ${targetId}`);
        this.nextActionAt = op.deadline;
        return;
      }
    }
    if (res.kind === 'redirect') {
      this.leaderGuess = res.leader;
      this.nextActionAt = now + 1;
    } else {
      this.leaderGuess = undefined;
      this.nextActionAt = now + s.retryMs;
    }
  }

  private randomMember(): NodeId | undefined {
    const ids = this.env.memberIds();
    return ids.length === 0 ? undefined : this.rng.pick(ids);
  }

  onWriteOutcome(req: string, outcome: WriteOutcome, now: number): void {
    const op = this.op;
    if (op === undefined || op.req !== req) return; // an answer to an operation already given up on
    switch (outcome.kind) {
      case 'ok':
        if (op.input.op === 'put' || op.input.op === 'cas') {
          if (outcome.output.op !== 'cas' || outcome.output.succeeded)
            this.lastSeen.set(op.input.key, op.input.value);
        } else if (op.input.op === 'delete') this.lastSeen.set(op.input.key, null);
        this.finish(now, outcome.output);
        return;
      case 'superseded':
        // Never proposed, or its index went to another entry: it will never apply, so sending it again is safe.
        this.env.trace(`client ${this.id} ${req} superseded (${outcome.why}); retrying`);
        op.proposedOn = undefined;
        this.leaderGuess = undefined;
        this.nextActionAt = now + this.settings.retryMs;
        return;
      case 'lost':
        this.giveUp(now, `outcome lost: ${outcome.why}`);
        return;
    }
  }

  onReadServed(readId: string, value: string | null, now: number, by: NodeId): void {
    const op = this.op;
    if (op === undefined || op.input.op !== 'get' || !readId.startsWith(op.req + '#')) return;
    this.lastSeen.set(op.input.key, value);
    this.env.trace(`client ${this.id} ${op.req} read served by ${by}`);
    this.finish(now, { op: 'get', value });
  }

  private finish(now: number, output: KvOutput): void {
    const op = this.op!;
    this.env.record({ client: this.id, input: op.input, call: op.call, output, return: now });
    this.env.trace(`client ${this.id} return ${op.req} ${describeOutput(output)} (${now - op.call}ms)`);
    this.completed++;
    this.lastCompletionAt = now;
    this.op = undefined;
    this.nextActionAt = now + this.rng.int(0, this.settings.thinkMaxMs);
  }

  /** Records an unknown outcome: the operation may or may not take effect, at any time from its call on. */
  giveUp(now: number, why: string): void {
    const op = this.op;
    if (op === undefined) return;
    this.env.record({ client: this.id, input: op.input, call: op.call });
    this.env.trace(`client ${this.id} unknown ${op.req} (${why})`);
    this.unknown++;
    this.op = undefined;
    this.leaderGuess = undefined;
    this.nextActionAt = now + this.rng.int(0, this.settings.thinkMaxMs);
  }
}

export function describeInput(input: KvInput): string {
  switch (input.op) {
    case 'put':
      return `put(${input.key}, ${input.value})`;
    case 'get':
      return `get(${input.key})`;
    case 'delete':
      return `delete(${input.key})`;
    case 'cas':
      return `cas(${input.key}, ${String(input.expected)} -> ${input.value})`;
  }
}

function describeOutput(output: KvOutput): string {
  switch (output.op) {
    case 'put':
      return 'ok';
    case 'get':
      return `-> ${String(output.value)}`;
    case 'delete':
      return output.deleted ? 'deleted' : 'not found';
    case 'cas':
      return output.succeeded ? 'succeeded' : 'failed';
  }
}
