// The set of operations already linearized on the current search path. Its hash is kept incrementally (Zobrist
// hashing: XOR of a fixed pseudo-random word per member), so a memo lookup costs O(1) instead of O(n/32).
import { mix32 } from './hash.js';

export class Bitset {
  private readonly words: Uint32Array;
  private zobrist = 0;

  constructor(readonly size: number) {
    if (!Number.isSafeInteger(size) || size < 0)
      throw new RangeError(`bitset size must be >= 0, got ${size}`);
    this.words = new Uint32Array(Math.ceil(size / 32));
  }

  get hash(): number {
    return this.zobrist;
  }

  has(bit: number): boolean {
    return ((this.words[bit >>> 5]! >>> (bit & 31)) & 1) === 1;
  }

  set(bit: number): void {
    this.check(bit);
    if (this.has(bit)) return;
    this.words[bit >>> 5]! |= 1 << (bit & 31);
    this.zobrist = (this.zobrist ^ memberHash(bit)) >>> 0;
  }

  clear(bit: number): void {
    this.check(bit);
    if (!this.has(bit)) return;
    this.words[bit >>> 5]! &= ~(1 << (bit & 31));
    this.zobrist = (this.zobrist ^ memberHash(bit)) >>> 0;
  }

  /**
   * A copy of words [fromWord, toWord) (all by default), for the memo cache. A plain array: much cheaper to
   * allocate than a typed one.
   */
  snapshot(fromWord = 0, toWord = this.words.length): number[] {
    const words = this.words;
    const copy = new Array<number>(toWord - fromWord);
    for (let i = fromWord; i < toWord; i++) copy[i - fromWord] = words[i]!;
    return copy;
  }

  /** True when words [fromWord, fromWord + words.length) equal `words` (a snapshot of that range). */
  equalsRange(words: readonly number[], fromWord: number): boolean {
    const mine = this.words;
    for (let i = 0; i < words.length; i++) {
      if (mine[fromWord + i] !== words[i]) return false;
    }
    return true;
  }

  /** True when every member of `words` (a snapshot) is also a member of this set. */
  includes(words: readonly number[]): boolean {
    const mine = this.words;
    if (mine.length !== words.length) return false;
    for (let i = 0; i < mine.length; i++) {
      if ((words[i]! & ~mine[i]!) !== 0) return false;
    }
    return true;
  }

  /** True when every member of this set is also a member of `words` (a snapshot). */
  isSubsetOf(words: readonly number[]): boolean {
    const mine = this.words;
    if (mine.length !== words.length) return false;
    for (let i = 0; i < mine.length; i++) {
      if ((mine[i]! & ~words[i]!) !== 0) return false;
    }
    return true;
  }

  equals(words: readonly number[]): boolean {
    const mine = this.words;
    if (mine.length !== words.length) return false;
    for (let i = 0; i < mine.length; i++) {
      if (mine[i] !== words[i]) return false;
    }
    return true;
  }

  private check(bit: number): void {
    if (!Number.isInteger(bit) || bit < 0 || bit >= this.size) {
      throw new RangeError(`bit ${bit} outside bitset of size ${this.size}`);
    }
  }
}

function memberHash(bit: number): number {
  // mix32 is a bijection, so distinct members get distinct words; +1 keeps member 0 from mapping to mix32(0) = 0.
  return mix32(bit + 1);
}
