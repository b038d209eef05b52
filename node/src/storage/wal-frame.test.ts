import { crc32c } from './crc32c.js';
import { FRAME_HEADER_BYTES, scanFrames, writeFrameHeader } from './wal-frame.js';

const MAX = 1 << 20;

function frame(type: number, payload: Uint8Array): Uint8Array {
  const buf = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  buf.set(payload, FRAME_HEADER_BYTES);
  writeFrameHeader(buf, 0, type, payload.length);
  return buf;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const bytes = (...xs: number[]): Uint8Array => Uint8Array.from(xs);

describe('wal frames', () => {
  const a = frame(1, bytes(1, 2, 3));
  const b = frame(2, bytes(4, 5, 6, 7, 8));
  const c = frame(3, new Uint8Array(0));
  const file = concat(a, b, c);

  it('lays out the header as documented', () => {
    const view = new DataView(a.buffer);
    expect(view.getUint32(0, true)).toBe(3);
    expect(a[4]).toBe(1);
    expect(view.getUint32(8, true)).toBe(crc32c(a, 0, 8));
    expect(view.getUint32(12, true)).toBe(crc32c(bytes(1, 2, 3)));
  });

  it('scans back every frame of an intact file', () => {
    const r = scanFrames(file, MAX);
    expect(r.damage).toBeUndefined();
    expect(r.validBytes).toBe(file.length);
    expect(r.frames.map((f) => [f.type, f.offset, Array.from(f.payload)])).toEqual([
      [1, 0, [1, 2, 3]],
      [2, a.length, [4, 5, 6, 7, 8]],
      [3, a.length + b.length, []],
    ]);
  });

  it('treats a cut at every byte of the last frame as a torn tail ending at the previous frame', () => {
    const lastStart = a.length + b.length;
    for (let cut = lastStart + 1; cut < file.length; cut++) {
      const r = scanFrames(file.subarray(0, cut), MAX);
      expect(r.damage?.kind).toBe('torn');
      expect(r.validBytes).toBe(lastStart);
      expect(r.frames).toHaveLength(2);
    }
  });

  it('treats a zero-filled tail as torn', () => {
    const r = scanFrames(concat(a, b, new Uint8Array(4096)), MAX);
    expect(r.damage).toMatchObject({ kind: 'torn', offset: a.length + b.length });
    expect(r.frames).toHaveLength(2);
  });

  it('treats garbage that contains no valid frame as torn', () => {
    const r = scanFrames(concat(a, bytes(9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9)), MAX);
    expect(r.damage?.kind).toBe('torn');
    expect(r.validBytes).toBe(a.length);
  });

  it('reports corruption at the damaged frame when any byte of an early frame is flipped', () => {
    for (let i = 0; i < a.length; i++) {
      const damaged = file.slice();
      damaged[i] = damaged[i]! ^ 0x40;
      const r = scanFrames(damaged, MAX);
      expect(r.damage).toMatchObject({ kind: 'corrupt', offset: 0 });
      expect(r.frames).toHaveLength(0);
    }
  });

  it('refuses a frame whose declared payload exceeds the bound', () => {
    const big = frame(1, new Uint8Array(100));
    const r = scanFrames(big, 99);
    expect(r.damage?.reason).toMatch(/exceeds the 99-byte bound/);
  });

  it('rejects invalid types and lengths when writing', () => {
    expect(() => writeFrameHeader(new Uint8Array(16), 0, 0, 0)).toThrow(RangeError);
    expect(() => writeFrameHeader(new Uint8Array(16), 0, 256, 0)).toThrow(RangeError);
  });
});
