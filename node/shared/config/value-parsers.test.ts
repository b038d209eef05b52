import {
  boolean,
  dns1123Label,
  identifier,
  initialMembers,
  integerIn,
  MAX_INITIAL_MEMBERS,
  oneOf,
  path,
} from './value-parsers.js';

describe('integerIn', () => {
  const p = integerIn(1, 100);
  it('accepts plain integers in range, bounds included', () => {
    expect(p('1')).toEqual({ ok: true, value: 1 });
    expect(p('100')).toEqual({ ok: true, value: 100 });
    expect(p('007')).toEqual({ ok: true, value: 7 });
  });
  it.each(['0', '101', '-1', '+5', '1e2', '5.0', ' 5', '5ms', '', '0x10', '99999999999999999999'])(
    'refuses %j saying what range it wants',
    (raw) => {
      expect(p(raw)).toEqual({ ok: false, expected: 'an integer from 1 to 100' });
    },
  );
  it('refuses nonsensical bounds at definition time', () => {
    expect(() => integerIn(5, 1)).toThrow(/bad bounds/);
    expect(() => integerIn(0, 2 ** 60)).toThrow(/bad bounds/);
  });
});

describe('dns1123Label', () => {
  it.each(['a', 'node-0', '0', 'a'.repeat(63)])('accepts %s', (raw) => {
    expect(dns1123Label(raw).ok).toBe(true);
  });
  it.each(['', 'Node', '-a', 'a-', 'a.b', 'a_b', 'a'.repeat(64)])('refuses %j', (raw) => {
    const r = dns1123Label(raw);
    expect(r.ok ? 'accepted' : r.expected).toMatch(/^a DNS-1123 label/);
  });
});

describe('identifier', () => {
  it('accepts ids and refuses separators, spaces and over-long ids', () => {
    expect(identifier('prod-eu.1_A').ok).toBe(true);
    expect(identifier('a/b').ok).toBe(false);
    expect(identifier('a b').ok).toBe(false);
    expect(identifier('-a').ok).toBe(false);
    expect(identifier('a'.repeat(129)).ok).toBe(false);
  });
});

describe('path', () => {
  it('accepts a path and refuses empty, NUL and over-long ones', () => {
    expect(path('/var/lib/raftstore')).toEqual({ ok: true, value: '/var/lib/raftstore' });
    expect(path('').ok).toBe(false);
    expect(path('/a\0b').ok).toBe(false);
    expect(path('/'.repeat(4097)).ok).toBe(false);
  });
});

describe('boolean', () => {
  it('accepts exactly true and false', () => {
    expect(boolean('true')).toEqual({ ok: true, value: true });
    expect(boolean('false')).toEqual({ ok: true, value: false });
    for (const raw of ['True', '1', '0', 'yes', ''])
      expect(boolean(raw)).toEqual({ ok: false, expected: 'true or false' });
  });
});

describe('oneOf', () => {
  it('accepts a listed choice and names all choices otherwise', () => {
    const p = oneOf(['new', 'existing'] as const);
    expect(p('existing')).toEqual({ ok: true, value: 'existing' });
    expect(p('New')).toEqual({ ok: false, expected: 'one of new, existing' });
  });
});

describe('initialMembers', () => {
  it('parses name=host:port entries in order', () => {
    expect(initialMembers('a=10.0.0.1:2380,b=[::1]:2380')).toEqual({
      ok: true,
      value: [
        { name: 'a', peerAddress: { host: '10.0.0.1', port: 2380 } },
        { name: 'b', peerAddress: { host: '::1', port: 2380 } },
      ],
    });
  });
  it.each([
    ['missing =', 'a:2380', /has no '='/],
    ['bad name', 'A=h:1', /bad name "A"/],
    ['bad address', 'a=h', /bad address "h" for a/],
    ['port 0', 'a=h:0', /bad address "h:0"/],
    ['duplicate name', 'a=h:1,a=h:2', /a appears twice/],
    ['duplicate address', 'a=h:1,b=H:1', /address H:1 appears twice/],
    ['trailing comma', 'a=h:1,', /has no '='/],
    [
      'too many',
      Array.from({ length: MAX_INITIAL_MEMBERS + 1 }, (_, i) => `m${i}=h:${i + 1}`).join(','),
      /1 to 9/,
    ],
  ])('refuses %s', (_why, raw, message) => {
    const r = initialMembers(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.expected).toMatch(message);
  });
});
