import { describe, expect, it } from '@jest/globals';
import { NO_TRACE, WriteTracer, type TraceRecord } from './write-trace.js';

function tracer(sampleEvery: number, maxBufferedRecords = 100) {
  const written: string[] = [];
  let clock = 1000;
  const t = new WriteTracer({
    member: 'm0',
    sampleEvery,
    maxBufferedRecords,
    now: () => clock++,
    write: (l) => written.push(l),
  });
  const records = (): TraceRecord[] =>
    written.flatMap((l) => l.trim().split('\n')).map((l) => JSON.parse(l) as TraceRecord);
  return { t, written, records };
}

describe('WriteTracer', () => {
  it('records only sampled indexes, with the clock or the time given', () => {
    const { t, records } = tracer(4);
    for (let i = 1; i <= 8; i++) t.mark('proposed', 2, i);
    t.mark('queued', 2, 8, 5.5);
    t.flush();
    expect(records()).toEqual([
      { m: 'm0', s: 'proposed', term: 2, i: 4, t: 1000 },
      { m: 'm0', s: 'proposed', term: 2, i: 8, t: 1001 },
      { m: 'm0', s: 'queued', term: 2, i: 8, t: 5.5 },
    ]);
  });

  it('keeps at most maxBufferedRecords between flushes and counts what it dropped', () => {
    const { t, records } = tracer(1, 3);
    for (let i = 1; i <= 5; i++) t.mark('applied', 1, i);
    expect(t.dropped).toBe(2);
    t.flush();
    expect(records().map((r) => r.i)).toEqual([1, 2, 3]);
    t.mark('applied', 1, 6);
    t.flush();
    expect(records().map((r) => r.i)).toEqual([1, 2, 3, 6]);
  });

  it('writes nothing when nothing was marked', () => {
    const { t, written } = tracer(1);
    t.flush();
    expect(written).toEqual([]);
  });

  it('refuses a sampling rate or a bound that is not a positive integer', () => {
    const write = (): void => undefined;
    expect(() => new WriteTracer({ member: 'm', sampleEvery: 0, maxBufferedRecords: 1, write })).toThrow(
      'sampleEvery must be a positive integer, not 0',
    );
    expect(() => new WriteTracer({ member: 'm', sampleEvery: 1, maxBufferedRecords: 0.5, write })).toThrow(
      'maxBufferedRecords must be a positive integer, not 0.5',
    );
  });

  it('is off by default', () => {
    expect(NO_TRACE.enabled).toBe(false);
    expect(NO_TRACE.sampled(16)).toBe(false);
  });
});
