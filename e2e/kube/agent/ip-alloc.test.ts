import { IpAllocator, formatIPv4, parseIPv4 } from './ip-alloc.js';

describe('ip allocator', () => {
  it('hands out addresses in turn from .2; a released one is not reused before the range wraps', () => {
    const a = new IpAllocator('10.244.1.0/24');
    expect(a.allocate('p1')).toBe('10.244.1.2');
    expect(a.allocate('p2')).toBe('10.244.1.3');
    expect(a.allocate('p1')).toBe('10.244.1.2');
    a.release('p1');
    // A pod recreated at once must not take the address the deleted pod's DNS record may still name.
    expect(a.allocate('p3')).toBe('10.244.1.4');
    expect(a.inUse()).toBe(2);
  });
  it('wraps to the start of the range and skips addresses in use', () => {
    const a = new IpAllocator('10.0.0.0/29'); // hosts .2 .. .6
    for (const p of ['a', 'b', 'c', 'd', 'e']) a.allocate(p);
    a.release('b'); // .3
    a.release('a'); // .2
    expect(a.allocate('f')).toBe('10.0.0.2');
    expect(a.allocate('g')).toBe('10.0.0.3');
    expect(() => a.allocate('h')).toThrow(/exhausted/);
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
