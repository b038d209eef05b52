// Bounds-checked binary encoding primitives shared by the command, result and snapshot codecs. Big-endian, fixed
// width integers (so equal states encode to equal bytes), u32 length prefixes. Every read checks the remaining
// length first, so a truncated or corrupted input is a KvCodecError, never a silent misread or a huge allocation.

import { copyBytes } from './bytes.js';

export class KvCodecError extends Error {
  override readonly name = 'KvCodecError';
}

const TWO_32 = 0x1_0000_0000;
// Shared: constructing an encoder or decoder per string costs more than encoding a short string.
const UTF8_ENCODER = new TextEncoder();
const UTF8_DECODER = new TextDecoder('utf-8', { fatal: true });

export class ByteWriter {
  #buffer: Uint8Array;
  #view: DataView;
  #length = 0;

  constructor(initialCapacity = 256) {
    this.#buffer = new Uint8Array(initialCapacity);
    this.#view = new DataView(this.#buffer.buffer);
  }

  #reserve(bytes: number): void {
    const needed = this.#length + bytes;
    if (needed <= this.#buffer.length) return;
    let capacity = this.#buffer.length * 2;
    while (capacity < needed) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = grown;
    this.#view = new DataView(grown.buffer);
  }

  u8(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xff)
      throw new KvCodecError(`u8 out of range: ${value}`);
    this.#reserve(1);
    this.#buffer[this.#length++] = value;
    return this;
  }

  bool(value: boolean): this {
    return this.u8(value ? 1 : 0);
  }

  u32(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value >= TWO_32) {
      throw new KvCodecError(`u32 out of range: ${value}`);
    }
    this.#reserve(4);
    this.#view.setUint32(this.#length, value);
    this.#length += 4;
    return this;
  }

  /** A non-negative safe integer (< 2^53) as 8 bytes. */
  u64(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new KvCodecError(`u64 out of range: ${value}`);
    this.#reserve(8);
    this.#view.setUint32(this.#length, Math.floor(value / TWO_32));
    this.#view.setUint32(this.#length + 4, value % TWO_32);
    this.#length += 8;
    return this;
  }

  /** u32 length, then the bytes. */
  bytes(value: Uint8Array): this {
    this.u32(value.length);
    this.#reserve(value.length);
    this.#buffer.set(value, this.#length);
    this.#length += value.length;
    return this;
  }

  string(value: string): this {
    return this.bytes(UTF8_ENCODER.encode(value));
  }

  get length(): number {
    return this.#length;
  }

  /** The bytes written so far (a copy, so later writes cannot change it). */
  finish(): Uint8Array {
    return this.#buffer.slice(0, this.#length);
  }
}

export class ByteReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #offset: number;
  readonly #end: number;
  readonly #what: string;

  /** `what` names the input in error messages ("command", "snapshot"). */
  constructor(bytes: Uint8Array, what: string, start = 0, end = bytes.length) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#offset = start;
    this.#end = end;
    this.#what = what;
  }

  #need(bytes: number, field: string): void {
    if (this.#end - this.#offset < bytes) {
      throw new KvCodecError(
        `${this.#what} truncated at byte ${this.#offset}: ${field} needs ${bytes} bytes, ${this.#end - this.#offset} left`,
      );
    }
  }

  get offset(): number {
    return this.#offset;
  }

  get remaining(): number {
    return this.#end - this.#offset;
  }

  u8(field: string): number {
    this.#need(1, field);
    return this.#bytes[this.#offset++] ?? 0;
  }

  bool(field: string): boolean {
    const value = this.u8(field);
    if (value > 1) throw new KvCodecError(`${this.#what}: ${field} is ${value}, not a boolean`);
    return value === 1;
  }

  u32(field: string): number {
    this.#need(4, field);
    const value = this.#view.getUint32(this.#offset);
    this.#offset += 4;
    return value;
  }

  u64(field: string): number {
    this.#need(8, field);
    const high = this.#view.getUint32(this.#offset);
    const low = this.#view.getUint32(this.#offset + 4);
    this.#offset += 8;
    const value = high * TWO_32 + low;
    if (!Number.isSafeInteger(value)) throw new KvCodecError(`${this.#what}: ${field} ${value} exceeds 2^53`);
    return value;
  }

  /** A length-prefixed byte string, copied out so it does not pin the (possibly large) input buffer. */
  bytes(field: string): Uint8Array {
    const length = this.u32(`${field} length`);
    this.#need(length, field);
    const value = copyBytes(this.#bytes, this.#offset, this.#offset + length);
    this.#offset += length;
    return value;
  }

  string(field: string): string {
    try {
      return UTF8_DECODER.decode(this.bytes(field));
    } catch (cause) {
      if (cause instanceof KvCodecError) throw cause;
      throw new KvCodecError(`${this.#what}: ${field} is not valid UTF-8`, { cause });
    }
  }

  /** A count of items each at least `minItemBytes` long; rejects counts the remaining input cannot hold. */
  count(field: string, minItemBytes: number): number {
    const count = this.u32(field);
    if (count * minItemBytes > this.remaining) {
      throw new KvCodecError(
        `${this.#what}: ${field} ${count} cannot fit in the ${this.remaining} bytes left`,
      );
    }
    return count;
  }

  /** Fails unless every byte was consumed: trailing bytes mean a format mismatch. */
  end(): void {
    if (this.#offset !== this.#end) {
      throw new KvCodecError(`${this.#what}: ${this.#end - this.#offset} unexpected trailing bytes`);
    }
  }
}
