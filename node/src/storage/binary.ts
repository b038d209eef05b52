// Little-endian binary encoding helpers shared by the WAL and snapshot codecs. Indexes and terms are JS numbers on
// the Raft side, so they are stored as u64 but must stay within Number.MAX_SAFE_INTEGER; anything else is refused
// on write and reported as malformed on read, never silently rounded.

const TWO_POW_32 = 0x1_0000_0000;
/** The largest high word of a u64 that still makes a safe integer (2^53 - 1 >> 32). */
const MAX_SAFE_HIGH_WORD = 0x1f_ffff;

/** Raised when bytes do not decode: the caller turns it into a corruption error naming the file and offset. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

export function assertU64(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${what} must be a non-negative safe integer, got ${value}`);
  }
}

/** Writes a non-negative safe integer as a little-endian u64. */
export function putU64(view: DataView, offset: number, value: number, what: string): void {
  assertU64(value, what);
  view.setUint32(offset, value % TWO_POW_32, true);
  view.setUint32(offset + 4, Math.floor(value / TWO_POW_32), true);
}

/** Sequential reader over a byte range; every read is bounds-checked and throws DecodeError on overrun. */
export class ByteReader {
  private readonly view: DataView;
  private pos: number;

  constructor(
    private readonly bytes: Uint8Array,
    start = 0,
    private readonly end = bytes.length,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.end) {
      throw new DecodeError(`${what} needs ${n} bytes but only ${this.end - this.pos} remain`);
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.view.getUint8(this.pos++);
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  u64(what: string): number {
    this.need(8, what);
    const low = this.view.getUint32(this.pos, true);
    const high = this.view.getUint32(this.pos + 4, true);
    if (high > MAX_SAFE_HIGH_WORD) throw new DecodeError(`${what} does not fit a safe integer`);
    this.pos += 8;
    return high * TWO_POW_32 + low;
  }

  /** A copy, so decoded values never alias (and pin) a large file buffer. */
  bytesCopy(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.bytes.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  utf8(n: number, what: string): string {
    this.need(n, what);
    let s: string;
    try {
      s = new TextDecoder('utf-8', { fatal: true }).decode(this.bytes.subarray(this.pos, this.pos + n));
    } catch {
      throw new DecodeError(`${what} is not valid UTF-8`);
    }
    this.pos += n;
    return s;
  }

  /** Everything left, copied. */
  rest(what: string): Uint8Array {
    return this.bytesCopy(this.remaining, what);
  }

  expectEnd(what: string): void {
    if (this.pos !== this.end)
      throw new DecodeError(`${what} has ${this.end - this.pos} unexpected trailing bytes`);
  }
}
