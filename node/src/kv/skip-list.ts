// An ordered map from byte keys to values: a skip list (Pugh 1990) with expected O(log n) lookup, insert and
// delete, and in-order iteration from any lower bound. Chosen over a B-tree for its short, easily checked code; the
// coin flips come from an injected random source, so a test run (and its performance) is reproducible. Iteration
// order, the only thing observable from outside, depends on the keys alone, never on the coin flips.

import { compareBytes } from './bytes.js';

const MAX_LEVEL = 32; // enough for 4^32 keys at p = 1/4
const P = 0.25;

interface Node<V> {
  readonly key: Uint8Array;
  value: V;
  readonly next: (Node<V> | undefined)[];
}

export class SkipList<V> {
  readonly #head: Node<V>;
  readonly #random: () => number;
  #level = 1;
  #size = 0;

  constructor(random: () => number) {
    this.#random = random;
    this.#head = {
      key: new Uint8Array(0),
      // The head is a sentinel before every key; its value is never read, so no V is needed to build it.
      value: undefined as unknown as V,
      next: new Array<undefined>(MAX_LEVEL),
    };
  }

  get size(): number {
    return this.#size;
  }

  #randomLevel(): number {
    let level = 1;
    while (level < MAX_LEVEL && this.#random() < P) level++;
    return level;
  }

  /** Fills `update[i]` with the last node at level i whose key is < key; returns the first node with key >= key. */
  #seek(key: Uint8Array, update?: Node<V>[]): Node<V> | undefined {
    let node = this.#head;
    for (let i = this.#level - 1; i >= 0; i--) {
      for (
        let next = node.next[i];
        next !== undefined && compareBytes(next.key, key) < 0;
        next = node.next[i]
      ) {
        node = next;
      }
      if (update) update[i] = node;
    }
    return node.next[0];
  }

  get(key: Uint8Array): V | undefined {
    const node = this.#seek(key);
    return node !== undefined && compareBytes(node.key, key) === 0 ? node.value : undefined;
  }

  has(key: Uint8Array): boolean {
    const node = this.#seek(key);
    return node !== undefined && compareBytes(node.key, key) === 0;
  }

  /** Inserts or replaces. The key is stored as given: callers pass a buffer they will not mutate. */
  set(key: Uint8Array, value: V): void {
    const update: Node<V>[] = new Array<Node<V>>(MAX_LEVEL).fill(this.#head);
    const found = this.#seek(key, update);
    if (found !== undefined && compareBytes(found.key, key) === 0) {
      found.value = value;
      return;
    }
    const level = this.#randomLevel();
    if (level > this.#level) this.#level = level; // update[] above the old level already holds head
    const node: Node<V> = { key, value, next: new Array<undefined>(level) };
    for (let i = 0; i < level; i++) {
      const prev = update[i] ?? this.#head;
      node.next[i] = prev.next[i];
      prev.next[i] = node;
    }
    this.#size++;
  }

  /** Removes the key; returns whether it was present. */
  delete(key: Uint8Array): boolean {
    const update: Node<V>[] = new Array<Node<V>>(MAX_LEVEL).fill(this.#head);
    const found = this.#seek(key, update);
    if (found === undefined || compareBytes(found.key, key) !== 0) return false;
    for (let i = 0; i < found.next.length; i++) {
      const prev = update[i] ?? this.#head;
      if (prev.next[i] === found) prev.next[i] = found.next[i];
    }
    while (this.#level > 1 && this.#head.next[this.#level - 1] === undefined) this.#level--;
    this.#size--;
    return true;
  }

  /**
   * Entries with start <= key < end in key order (start undefined = from the first key, end undefined = to the
   * last). The list must not be modified while the iterator is live; collect first, then mutate.
   */
  *entries(start?: Uint8Array, end?: Uint8Array): Generator<[Uint8Array, V]> {
    let node = start === undefined ? this.#head.next[0] : this.#seek(start);
    while (node !== undefined && (end === undefined || compareBytes(node.key, end) < 0)) {
      yield [node.key, node.value];
      node = node.next[0];
    }
  }
}
