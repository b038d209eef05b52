import {
  HistoryFormatError,
  effectiveReturn,
  parseJsonLines,
  toJsonLines,
  type Operation,
} from './history.js';
import { kvCodec } from './kv-codec.js';
import type { KvInput, KvOutput } from './kv-model.js';

const HISTORY: Operation<KvInput, KvOutput>[] = [
  { client: 1, input: { op: 'put', key: 'k', value: 'a' }, call: 10, output: { op: 'put' }, return: 14 },
  { client: 2, input: { op: 'get', key: 'k' }, call: 11 },
  {
    client: 3,
    input: { op: 'cas', key: 'k', expected: null, value: 'b' },
    call: 12.5,
    output: { op: 'cas', succeeded: false },
    return: 20,
  },
  { client: 4, input: { op: 'delete', key: 'k' }, call: 13, output: { op: 'delete', deleted: true } },
];

describe('JSON Lines', () => {
  test('one operation per line, an unknown outcome without output or return', () => {
    const text = toJsonLines(HISTORY);
    const lines = text.split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[4]).toBe('');
    expect(lines[0]).toBe(
      '{"client":1,"input":{"op":"put","key":"k","value":"a"},"call":10,"output":{"op":"put"},"return":14}',
    );
    expect(lines[1]).toBe('{"client":2,"input":{"op":"get","key":"k"},"call":11}');
  });

  test('round trip, with and without a codec', () => {
    const text = toJsonLines(HISTORY);
    expect(parseJsonLines(text, kvCodec)).toEqual(HISTORY);
    expect(parseJsonLines<KvInput, KvOutput>(text)).toEqual(HISTORY);
  });

  test('an infinite return is written as absent', () => {
    const op = { client: 1, input: 'x', call: 0, output: 'y', return: Infinity };
    expect(toJsonLines([op])).toBe('{"client":1,"input":"x","call":0,"output":"y"}\n');
  });

  test('blank lines, CRLF, null output/return and extra fields are accepted', () => {
    const text = '\r\n{"client":1,"input":"x","call":1,"output":null,"return":null,"note":"hi"}\r\n\n';
    expect(parseJsonLines(text)).toEqual([{ client: 1, input: 'x', call: 1 }]);
  });

  test.each([
    ['not JSON', 'nope', 2, /invalid JSON/],
    ['an array', '[1]', 2, /expected a JSON object/],
    ['a fractional client', '{"client":1.5,"input":"x","call":1}', 2, /"client" must be an integer/],
    ['a string call', '{"client":1,"input":"x","call":"1"}', 2, /"call" must be a finite number/],
    ['no input', '{"client":1,"call":1}', 2, /"input" is missing/],
    [
      'a string return',
      '{"client":1,"input":"x","call":1,"return":"2"}',
      2,
      /"return" must be a finite number/,
    ],
    [
      'a return before the call',
      '{"client":1,"input":"x","call":5,"return":4}',
      2,
      /"return" \(4\) is before/,
    ],
  ])('rejects %s with its line number', (_name, line, lineNumber, reason) => {
    const text = `{"client":1,"input":"x","call":0}\n${line}\n`;
    let error: unknown;
    try {
      parseJsonLines(text);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(HistoryFormatError);
    expect((error as HistoryFormatError).line).toBe(lineNumber);
    expect((error as HistoryFormatError).reason).toMatch(reason);
    expect((error as HistoryFormatError).message).toMatch(new RegExp(`^line ${lineNumber}: `));
  });

  test('codec errors carry the line number', () => {
    const text = '\n\n{"client":1,"input":{"op":"put","key":"k"},"call":0}';
    expect(() => parseJsonLines(text, kvCodec)).toThrow(
      'line 3: bad "input": "value" must be a string, got undefined',
    );
  });
});

describe('effectiveReturn', () => {
  test('is the return for a known outcome and +infinity otherwise', () => {
    expect(effectiveReturn({ client: 0, input: 0, call: 1, output: 0, return: 2 })).toBe(2);
    expect(effectiveReturn({ client: 0, input: 0, call: 1, output: 0 })).toBe(Infinity);
    // A timed-out operation may still be applied after the client gave up.
    expect(effectiveReturn({ client: 0, input: 0, call: 1, return: 2 })).toBe(Infinity);
  });
});
