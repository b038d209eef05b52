// Where a write's time goes: each member timestamps the stages a sampled log entry passes through on it (queued for
// proposal, proposed, persisted, sent, received, acknowledged, committed, applied, replied), and the trace report
// (node/bench/trace-report.ts) joins the members' records by (term, index) into per-stage distributions. Off unless
// the member is started with --trace-writes DIR: the host loop then pays one modulo per entry per stage, and a
// sampled entry one array push.
//
// Timestamps are performance.timeOrigin + performance.now(), in milliseconds: monotonic within a process and, on
// one machine, comparable across processes to within the clock reads' own error (tens of microseconds), which is
// below what the report resolves.

export const TRACE_STAGES = [
  /** Handed to the replica by the client service (the request decoded and validated). */
  'queued',
  /** Given an index by the core: the batch it joined was proposed. */
  'proposed',
  /** The Ready carrying the entry starts to be written (and synced) to this member's disk. */
  'persistStart',
  /** That write is durable. */
  'persistEnd',
  /** An append carrying the entry left for a follower (once per follower). */
  'sent',
  /** An append carrying the entry reached this member's replica (before its loop stepped it). */
  'received',
  /** This member's acknowledgement of the entry left, after its own fsync. */
  'acked',
  /** The entry is known committed here (it appears among a Ready's committed entries). */
  'committed',
  /** The state machine applied it. */
  'applied',
  /** The proposer's waiter was resolved: the client service sends the reply. */
  'replied',
] as const;
export type TraceStage = (typeof TRACE_STAGES)[number];

export interface TraceRecord {
  /** Member name. */
  readonly m: string;
  readonly s: TraceStage;
  readonly term: number;
  readonly i: number;
  /** Milliseconds since the epoch, with sub-millisecond precision. */
  readonly t: number;
}

/** What the replica calls; NO_TRACE when tracing is off. */
export interface WriteTrace {
  readonly enabled: boolean;
  /** Whether entries at `index` are traced (a cheap test to do before building anything for a mark). */
  sampled(index: number): boolean;
  mark(stage: TraceStage, term: number, index: number, atMs?: number): void;
  /** The clock marks use: pass its value to mark() later as atMs. */
  now(): number;
}

export const NO_TRACE: WriteTrace = {
  enabled: false,
  sampled: () => false,
  mark: () => undefined,
  now: () => 0,
};

export function traceClockMs(): number {
  return performance.timeOrigin + performance.now();
}

export interface WriteTracerOptions {
  readonly member: string;
  /** Trace the entries whose index is a multiple of this (1: every entry). */
  readonly sampleEvery: number;
  /** Records kept in memory between flushes; past it records are dropped and counted. */
  readonly maxBufferedRecords: number;
  readonly now?: () => number;
  /** Receives JSON lines (each ending in a newline); called by flush(). */
  readonly write: (lines: string) => void;
}

export class WriteTracer implements WriteTrace {
  readonly enabled = true;
  private buffer: TraceRecord[] = [];
  private droppedRecords = 0;
  private readonly clock: () => number;

  constructor(private readonly options: WriteTracerOptions) {
    if (!Number.isInteger(options.sampleEvery) || options.sampleEvery < 1)
      throw new RangeError(`sampleEvery must be a positive integer, not ${options.sampleEvery}`);
    if (!Number.isInteger(options.maxBufferedRecords) || options.maxBufferedRecords < 1)
      throw new RangeError(
        `maxBufferedRecords must be a positive integer, not ${options.maxBufferedRecords}`,
      );
    this.clock = options.now ?? traceClockMs;
  }

  get dropped(): number {
    return this.droppedRecords;
  }

  sampled(index: number): boolean {
    return index % this.options.sampleEvery === 0;
  }

  now(): number {
    return this.clock();
  }

  mark(stage: TraceStage, term: number, index: number, atMs?: number): void {
    if (!this.sampled(index)) return;
    if (this.buffer.length >= this.options.maxBufferedRecords) {
      this.droppedRecords++;
      return;
    }
    this.buffer.push({ m: this.options.member, s: stage, term, i: index, t: atMs ?? this.clock() });
  }

  /** Hands the buffered records to `write` as JSON lines and empties the buffer. */
  flush(): void {
    if (this.buffer.length === 0) return;
    const records = this.buffer;
    this.buffer = [];
    this.options.write(records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  }
}
