// Latency histogram with logarithmic buckets (about 1% relative error), so workers can ship a few hundred
// counters over IPC instead of every sample, and the driver can merge workers exactly.
const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);
/** Anything slower than this (60 s) lands in the last bucket; a benchmark request never legitimately takes longer. */
const MAX_US = 60_000_000;
const BUCKETS = Math.ceil(Math.log(MAX_US) / LOG_GROWTH) + 1;

/** Sparse form sent over IPC: bucket index → count. */
export type HistogramCounts = Record<number, number>;

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  total = 0;

  record(latency_us: number): void {
    const v = Math.min(Math.max(latency_us, 1), MAX_US);
    this.counts[Math.ceil(Math.log(v) / LOG_GROWTH)]! += 1;
    this.total += 1;
  }

  toCounts(): HistogramCounts {
    const out: HistogramCounts = {};
    this.counts.forEach((c, i) => {
      if (c > 0) out[i] = c;
    });
    return out;
  }

  merge(counts: HistogramCounts): void {
    for (const [k, c] of Object.entries(counts)) {
      const i = Number(k);
      if (!Number.isInteger(i) || i < 0 || i >= BUCKETS)
        throw new Error(`histogram bucket ${k} out of range`);
      this.counts[i]! += c;
      this.total += c;
    }
  }

  /** Upper bound of the bucket holding quantile q (0..1), in microseconds; NaN when empty. */
  quantile_us(q: number): number {
    if (this.total === 0) return NaN;
    const rank = Math.ceil(q * this.total);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.pow(GROWTH, i);
    }
    return MAX_US;
  }
}
