import { hashedPart, keyBytes, keySlot, SLOT_COUNT } from './slot.js';

describe('keySlot', () => {
  it('is the low 12 bits of the slot Redis Cluster gives (CLUSTER KEYSLOT, crc16 mod 16384)', () => {
    // Values as printed by `redis-cli CLUSTER KEYSLOT <key>` (Redis documentation and tests).
    const redis: readonly [string, number][] = [
      ['foo', 12182],
      ['bar', 5061],
      ['hello', 866],
      ['somekey', 11058],
    ];
    for (const [key, redisSlot] of redis) expect(keySlot(key)).toBe(redisSlot % SLOT_COUNT);
  });

  it('treats a string as its UTF-8 bytes', () => {
    expect(keySlot('clé/☃')).toBe(keySlot(new TextEncoder().encode('clé/☃')));
  });

  it('keeps keys with the same hash tag in one slot', () => {
    expect(keySlot('{user:42}/profile')).toBe(keySlot('{user:42}/cart'));
    expect(keySlot('{user:42}/profile')).toBe(keySlot('user:42'));
  });

  it('follows the Redis hash-tag edge cases', () => {
    const part = (k: string): string => {
      const bytes = keyBytes(k);
      const { start, end } = hashedPart(bytes);
      return new TextDecoder().decode(bytes.subarray(start, end));
    };
    expect(part('plain')).toBe('plain');
    expect(part('{}x')).toBe('{}x'); // empty tag: whole key
    expect(part('x{y')).toBe('x{y'); // unclosed: whole key
    expect(part('a{b}c{d}')).toBe('b'); // first tag wins
    expect(part('{{x}}')).toBe('{x'); // from the first '{' to the next '}'
    expect(part('}{x}')).toBe('x'); // a '}' before the first '{' is ignored
  });

  it('always lands in [0, SLOT_COUNT) and spreads keys evenly', () => {
    const counts = new Uint32Array(SLOT_COUNT);
    const keys = 200_000;
    // One assertion for the whole loop: 200,000 expect() calls take most of a minute under jest.
    const outOfRange: number[] = [];
    for (let i = 0; i < keys; i++) {
      const slot = keySlot(`key-${i}`);
      if (!(Number.isInteger(slot) && slot >= 0 && slot < SLOT_COUNT)) outOfRange.push(slot);
      else counts[slot] = (counts[slot] ?? 0) + 1;
    }
    expect(outOfRange).toEqual([]);
    const mean = keys / SLOT_COUNT; // ≈ 48.8
    expect(Math.min(...counts)).toBeGreaterThan(mean / 3);
    expect(Math.max(...counts)).toBeLessThan(mean * 3);
  });
});
