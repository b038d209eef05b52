import { describe, expect, it } from '@jest/globals';
import type { TraceRecord, TraceStage } from '../../src/observability/write-trace.js';
import { formatTraceReport, parseTraceLine, traceReport } from './trace-report.js';

/** One write of a 3-member group, index 16: leader L, followers F1 (acks first) and F2. */
function write(index: number, offset = 0): TraceRecord[] {
  const at = (m: string, s: TraceStage, t: number): TraceRecord => ({
    m,
    s,
    term: 3,
    i: index,
    t: t + offset,
  });
  return [
    at('L', 'queued', 0),
    at('L', 'proposed', 1),
    at('L', 'persistStart', 1.5),
    at('L', 'sent', 1.2),
    at('L', 'sent', 1.3),
    at('L', 'persistEnd', 2.5),
    at('F1', 'received', 1.4),
    at('F1', 'persistStart', 1.6),
    at('F1', 'persistEnd', 2.1),
    at('F1', 'acked', 2.2),
    at('F2', 'received', 1.5),
    at('F2', 'persistStart', 1.7),
    at('F2', 'persistEnd', 3.0),
    at('F2', 'acked', 3.1),
    at('L', 'committed', 2.6),
    at('L', 'applied', 2.7),
    at('L', 'replied', 2.75),
  ];
}

describe('traceReport', () => {
  it('joins the members by (term, index): leader spans, and the fastest follower to ack', () => {
    const r = traceReport(write(16));
    expect(r.entries).toBe(1);
    const span = (name: string): number => r.spans.find((s) => s.name === name)!.p50_ms;
    expect(span('queue')).toBeCloseTo(1);
    expect(span('leader persist wait')).toBeCloseTo(0.5);
    expect(span('leader fsync')).toBeCloseTo(1);
    expect(span('leader send')).toBeCloseTo(0.2);
    expect(span('network out')).toBeCloseTo(0.2); // first send 1.2 → F1 received 1.4
    expect(span('follower persist wait')).toBeCloseTo(0.2);
    expect(span('follower fsync')).toBeCloseTo(0.5);
    expect(span('follower ack')).toBeCloseTo(0.1);
    expect(span('ack → commit')).toBeCloseTo(0.4);
    expect(span('apply')).toBeCloseTo(0.1);
    expect(span('reply')).toBeCloseTo(0.05);
    expect(span('total')).toBeCloseTo(2.75);
  });

  it('takes quantiles over entries and counts those seen only in part', () => {
    const records = [...write(16), ...write(32, 10), ...write(48, 20)];
    const partial = write(64).filter((x) => x.s !== 'replied');
    const r = traceReport([...records, ...partial]);
    expect(r.entries).toBe(3);
    expect(r.incomplete).toBe(1);
    expect(r.spans.find((s) => s.name === 'total')!.count).toBe(3);
    const text = formatTraceReport(r, '16 in flight');
    expect(text.split('\n')[0]).toBe('16 in flight: 3 sampled writes traced end to end (1 incomplete)');
    expect(text).toMatch(/^total\s+2\.750\s+2\.750\s+2\.750\s+2\.750$/m);
  });

  it('reads a trace line, and says what is wrong with a bad one', () => {
    expect(parseTraceLine('{"m":"a","s":"acked","term":1,"i":16,"t":5}')).toEqual({
      m: 'a',
      s: 'acked',
      term: 1,
      i: 16,
      t: 5,
    });
    expect(parseTraceLine('{')).toBe('not JSON');
    expect(parseTraceLine('{"m":"a","s":"nope","term":1,"i":1,"t":1}')).toBe('no member or unknown stage');
    expect(parseTraceLine('{"m":"a","s":"acked","term":"1","i":1,"t":1}')).toBe(
      'term, i and t must be numbers',
    );
  });
});
