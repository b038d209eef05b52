import {
  CommandFormatError,
  SimKvStateMachine,
  decodeCommand,
  encodeCommand,
} from './sim-kv-state-machine.js';

describe('SimKvStateMachine', () => {
  test('put, delete and compare-and-set answer like the sequential model', () => {
    const sm = new SimKvStateMachine();
    expect(
      sm.apply({ req: 'c1.1', client: 1, input: { op: 'cas', key: 'a', expected: null, value: 'x' } }),
    ).toEqual({
      kind: 'applied',
      output: { op: 'cas', succeeded: true },
    });
    expect(
      sm.apply({ req: 'c1.2', client: 1, input: { op: 'cas', key: 'a', expected: 'y', value: 'z' } }),
    ).toEqual({
      kind: 'applied',
      output: { op: 'cas', succeeded: false },
    });
    sm.apply({ req: 'c2.1', client: 2, input: { op: 'put', key: 'b', value: 'v' } });
    expect(sm.get('a')).toBe('x');
    expect(sm.apply({ req: 'c2.2', client: 2, input: { op: 'delete', key: 'a' } })).toEqual({
      kind: 'applied',
      output: { op: 'delete', deleted: true },
    });
    expect(sm.apply({ req: 'c2.3', client: 2, input: { op: 'delete', key: 'a' } })).toEqual({
      kind: 'applied',
      output: { op: 'delete', deleted: false },
    });
    expect(sm.get('a')).toBeNull();
  });

  test('a request applied twice is reported and changes nothing the second time', () => {
    const sm = new SimKvStateMachine();
    sm.apply({ req: 'c1.1', client: 1, input: { op: 'put', key: 'a', value: 'first' } });
    sm.apply({ req: 'c1.2', client: 1, input: { op: 'put', key: 'a', value: 'second' } });
    expect(sm.apply({ req: 'c1.1', client: 1, input: { op: 'put', key: 'a', value: 'first' } })).toEqual({
      kind: 'duplicate',
    });
    expect(sm.get('a')).toBe('second');
  });

  test('a snapshot restores the same state and the same applied requests, byte for byte', () => {
    const sm = new SimKvStateMachine();
    sm.apply({ req: 'c1.1', client: 1, input: { op: 'put', key: 'a', value: '1' } });
    sm.apply({ req: 'c1.2', client: 1, input: { op: 'put', key: 'b', value: '2' } });
    const copy = new SimKvStateMachine();
    copy.restore(sm.snapshot());
    expect(copy.snapshot()).toEqual(sm.snapshot());
    expect(copy.apply({ req: 'c1.2', client: 1, input: { op: 'put', key: 'b', value: '2' } }).kind).toBe(
      'duplicate',
    );
    copy.restore(new Uint8Array());
    expect(copy.get('a')).toBeNull();
  });

  test('commands round-trip; malformed payloads fail with a clear error', () => {
    const cmd = { req: 'c3.9', client: 3, input: { op: 'put', key: 'k', value: 'v' } } as const;
    expect(decodeCommand(encodeCommand(cmd))).toEqual(cmd);
    expect(() => decodeCommand(new TextEncoder().encode('{oops'))).toThrow(CommandFormatError);
    expect(() =>
      decodeCommand(new TextEncoder().encode('{"req":"r","client":1,"input":{"op":"get","key":"k"}}')),
    ).toThrow(/unknown write op/);
  });
});
