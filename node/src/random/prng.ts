// The one seeded random generator of the code base: sfc32 (Chris Doty-Humphrey's Small Fast Counting
// generator), seeded through splitmix32. One seed gives one sequence on every platform, so a run that draws from
// it replays exactly: the simulator (every fault, delay, client choice and election timeout), the chaos runs,
// generated histories, the tests and the skip list's coin flips (node/src/kv, where they affect speed only).
// Independent streams (network, faults, clients, each node) are forked by label, so adding a draw to one concern
// does not shift the choices of the others. Not for anything security-related.

/** A source of floats in [0, 1), the shape RawNode, SkipList and the history generator take. */
export type Random = () => number;

/** splitmix32: spreads a 32-bit seed over the state so nearby seeds give unrelated sequences. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a over a label, to derive a stream from (seed, label). */
function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0)
      throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
    // Fold the high bits in so seeds above 2^32 still differ.
    const mix = { s: (seed >>> 0) ^ Math.floor(seed / 0x1_0000_0000) };
    this.a = splitmix32(mix);
    this.b = splitmix32(mix);
    this.c = splitmix32(mix);
    this.d = splitmix32(mix) | 1;
    // Discard the first outputs: sfc32 mixes poorly for the first few rounds.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }

  /** An integer in [lo, hi] (both inclusive). */
  int(lo: number, hi: number): number {
    if (!(Number.isInteger(lo) && Number.isInteger(hi) && lo <= hi))
      throw new RangeError(`bad range [${lo}, ${hi}]`);
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return p > 0 && this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[Math.floor(this.float() * items.length)]!;
  }

  /** An independent stream named `label`, drawn from this one. */
  fork(label: string): Prng {
    return new Prng(
      ((this.nextUint32() ^ hashLabel(label)) >>> 0) * 0x200000 + (this.nextUint32() & 0x1fffff),
    );
  }
}

/** A fresh Prng seeded with `seed`, as a plain function returning floats in [0, 1). */
export function seededRandom(seed: number): Random {
  const prng = new Prng(seed);
  return () => prng.float();
}

/** An integer in [low, high] (both inclusive), drawn from a plain random source. */
export function randomInt(random: Random, low: number, high: number): number {
  if (!(high >= low)) throw new RangeError(`randomInt: empty range [${low}, ${high}]`);
  return low + Math.floor(random() * (high - low + 1));
}
