// A seeded pseudo-random source (mulberry32), so that generated histories, tests and benchmarks are reproducible
// from one printed seed.

/** Returns floats in [0, 1). */
export type Random = () => number;

export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [low, high] (both inclusive). */
export function randomInt(random: Random, low: number, high: number): number {
  if (!(high >= low)) throw new RangeError(`randomInt: empty range [${low}, ${high}]`);
  return low + Math.floor(random() * (high - low + 1));
}
