// A concurrent history: what clients invoked, when, and what they observed. This is the checker's input and the
// file format other checkers (and other languages) read, so the on-disk shape is kept deliberately plain.
//
// JSON Lines format (one operation per line, UTF-8, blank lines ignored):
//
//   {"client":1,"input":{"op":"put","key":"k","value":"a"},"call":10,"output":{"op":"put"},"return":14}
//   {"client":2,"input":{"op":"get","key":"k"},"call":11}
//
// - client: integer client id (metadata; the checker does not assume one operation at a time per client).
// - input:  the request, model-specific (for the key-value model see kv-codec.ts).
// - call:   invocation time, a finite number on one clock shared by every line (e.g. simulated ms).
// - output: the response, model-specific. Absent (or null) when the outcome is UNKNOWN (the client timed out):
//           the operation may have taken effect at any point after `call`, or never.
// - return: response time, a finite number >= call. Absent (or null) when the outcome is unknown. An operation
//           whose output is unknown is treated as returning at +infinity even if `return` is given, because a
//           timed-out request may still be applied after the client gave up.
//
// Two operations are ordered in real time only when one's return is strictly before the other's call; equal
// timestamps count as overlapping (as in porcupine), so coarse clocks give false passes, never false failures.
// Lines may appear in any order. Unknown fields are ignored so that recorders can add metadata.

export interface Operation<I, O> {
  /** Client id. */
  readonly client: number;
  readonly input: I;
  /** Invocation time (any monotonic number, e.g. simulated ms). */
  readonly call: number;
  /** Absent when the outcome is unknown. */
  readonly output?: O;
  /** Absent (or Infinity) when the outcome is unknown. */
  readonly return?: number;
}

/** A malformed history file: `line` is 1-based. */
export class HistoryFormatError extends Error {
  override readonly name = 'HistoryFormatError';
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
  }
}

/**
 * Turns raw JSON values into typed inputs and outputs; each function throws an Error whose message says what is
 * wrong. `output` also receives the decoded input so that it can check that the two belong together.
 */
export interface HistoryCodec<I, O> {
  input(raw: unknown): I;
  output(raw: unknown, input: I): O;
}

/** True when the operation's outcome is unknown (timed out); the checker then takes its return as +infinity. */
export function isUnknownOutcome(op: Operation<unknown, unknown>): boolean {
  return op.output === undefined;
}

/** The return time the checker uses: +infinity for unknown outcomes and for a missing return. */
export function effectiveReturn(op: Operation<unknown, unknown>): number {
  return op.output === undefined || op.return === undefined ? Infinity : op.return;
}

export function toJsonLines<I, O>(ops: readonly Operation<I, O>[]): string {
  let text = '';
  for (const op of ops) {
    const line: Record<string, unknown> = { client: op.client, input: op.input, call: op.call };
    if (op.output !== undefined) line['output'] = op.output;
    // JSON has no Infinity: an unbounded return is written as an absent one.
    if (op.return !== undefined && Number.isFinite(op.return)) line['return'] = op.return;
    text += JSON.stringify(line) + '\n';
  }
  return text;
}

/**
 * Parses a JSON Lines history. Without a codec, inputs and outputs are passed through unchecked (the caller asserts
 * their type); with one, each is decoded and a decoding failure is reported with its line number.
 * @throws HistoryFormatError on the first malformed line.
 */
export function parseJsonLines<I, O>(text: string, codec?: HistoryCodec<I, O>): Operation<I, O>[] {
  const ops: Operation<I, O>[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const source = (lines[index] ?? '').trim();
    if (source === '') continue;
    ops.push(parseLine(source, index + 1, codec));
  }
  return ops;
}

function parseLine<I, O>(
  source: string,
  line: number,
  codec: HistoryCodec<I, O> | undefined,
): Operation<I, O> {
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (error) {
    throw new HistoryFormatError(line, `invalid JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HistoryFormatError(line, 'expected a JSON object');
  }
  const record = value as Record<string, unknown>;
  const client = record['client'];
  if (typeof client !== 'number' || !Number.isSafeInteger(client)) {
    throw new HistoryFormatError(line, `"client" must be an integer, got ${JSON.stringify(client)}`);
  }
  const call = record['call'];
  if (typeof call !== 'number' || !Number.isFinite(call)) {
    throw new HistoryFormatError(line, `"call" must be a finite number, got ${JSON.stringify(call)}`);
  }
  if (!('input' in record) || record['input'] === null) {
    throw new HistoryFormatError(line, '"input" is missing');
  }
  const rawReturn = record['return'];
  if (rawReturn !== undefined && rawReturn !== null) {
    if (typeof rawReturn !== 'number' || !Number.isFinite(rawReturn)) {
      throw new HistoryFormatError(
        line,
        `"return" must be a finite number or absent, got ${JSON.stringify(rawReturn)}`,
      );
    }
    if (rawReturn < call) {
      throw new HistoryFormatError(line, `"return" (${rawReturn}) is before "call" (${call})`);
    }
  }
  const rawOutput = record['output'];
  let input: I;
  let output: O | undefined;
  try {
    input = codec === undefined ? (record['input'] as I) : codec.input(record['input']);
  } catch (error) {
    throw new HistoryFormatError(line, `bad "input": ${(error as Error).message}`);
  }
  try {
    if (rawOutput !== undefined && rawOutput !== null) {
      output = codec === undefined ? (rawOutput as O) : codec.output(rawOutput, input);
    }
  } catch (error) {
    throw new HistoryFormatError(line, `bad "output": ${(error as Error).message}`);
  }
  const op: { client: number; input: I; call: number; output?: O; return?: number } = { client, input, call };
  if (output !== undefined) op.output = output;
  if (typeof rawReturn === 'number') op.return = rawReturn;
  return op;
}
