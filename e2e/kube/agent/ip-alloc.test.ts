import { IpAllocator, formatIPv4, parseIPv4 } from './ip-alloc.js';

describe('ip allocator', () => {
  it('hands out the lowest free address from .2 and reuses released ones', () => {
    const a = new IpAllocator('10.244.1.0/24');
    expect(a.allocate('p1')).toBe('10.244.1.2');
    expect(a.allocate('p2')).toBe('10.244.1.3');
    expect(a.allocate('p1')).toBe('10.244.1.2');
    a.release('p1');
    expect(a.allocate('p3')).toBe('10.244.1.2');
    expect(a.inUse()).toBe(2);
  });
  it('fails clearly when the CIDR is exhausted', () => {
    const a = new IpAllocator('10.0.0.0/30');
    expect(a.allocate('a')).toBe('10.0.0.2');
    expect(() => a.allocate('b')).toThrow(/exhausted/);
  });
  it('parses and formats IPv4 and rejects garbage', () => {
    expect(formatIPv4(parseIPv4('10.244.3.255'))).toBe('10.244.3.255');
    expect(() => parseIPv4('10.1.2')).toThrow();
    expect(() => parseIPv4('10.1.2.256')).toThrow();
    expect(() => new IpAllocator('10.0.0.0/8')).toThrow(/between/);
  });
});
