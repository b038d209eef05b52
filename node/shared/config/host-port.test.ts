import { formatHostPort, isWildcardHost, listenAddressesClash, parseHostPort } from './host-port.js';

describe('parseHostPort', () => {
  it.each([
    ['10.0.0.1:2380', '10.0.0.1', 2380],
    ['0.0.0.0:0', '0.0.0.0', 0],
    ['[::1]:2379', '::1', 2379],
    ['[::]:65535', '::', 65535],
    ['Node-0.Peers.Default.svc:2380', 'node-0.peers.default.svc', 2380],
    ['localhost:8080', 'localhost', 8080],
  ])('accepts %s', (raw, host, port) => {
    expect(parseHostPort(raw)).toEqual({ ok: true, value: { host, port } });
  });

  it.each([
    ['no port', 'localhost'],
    ['empty host', ':2380'],
    ['port too large', 'a:65536'],
    ['signed port', 'a:+80'],
    ['empty port', 'a:'],
    ['URL scheme', 'http://a:2380'],
    ['unbracketed IPv6', '::1:2380'],
    ['bracketed IPv4', '[10.0.0.1]:2380'],
    ['unclosed bracket', '[::1:2380'],
    ['bad dotted quad', '300.1.1.1:80'],
    ['label ending in dash', 'a-.b:80'],
    ['underscore', 'a_b:80'],
    ['over-long name', `${'a.'.repeat(127)}ab:80`],
  ])('refuses %s', (_why, raw) => {
    expect(parseHostPort(raw).ok).toBe(false);
  });
});

describe('formatHostPort', () => {
  it('brackets IPv6 hosts and round-trips', () => {
    for (const raw of ['[::1]:2379', '10.0.0.1:2380', 'node-0:1']) {
      const p = parseHostPort(raw);
      if (!p.ok) throw new Error(`did not parse ${raw}`);
      expect(formatHostPort(p.value)).toBe(raw);
    }
  });
});

describe('listen address clashes', () => {
  const a = (host: string, port: number) => ({ host, port });
  it('clash on the same port on the same or a wildcard host', () => {
    expect(listenAddressesClash(a('127.0.0.1', 1), a('127.0.0.1', 1))).toBe(true);
    expect(listenAddressesClash(a('0.0.0.0', 1), a('127.0.0.1', 1))).toBe(true);
    expect(listenAddressesClash(a('10.0.0.1', 1), a('::', 1))).toBe(true);
  });
  it('do not clash on different ports, different specific hosts, or port 0', () => {
    expect(listenAddressesClash(a('0.0.0.0', 1), a('0.0.0.0', 2))).toBe(false);
    expect(listenAddressesClash(a('10.0.0.1', 1), a('10.0.0.2', 1))).toBe(false);
    expect(listenAddressesClash(a('0.0.0.0', 0), a('0.0.0.0', 0))).toBe(false);
  });
  it('knows the wildcard hosts', () => {
    expect(isWildcardHost('0.0.0.0')).toBe(true);
    expect(isWildcardHost('::')).toBe(true);
    expect(isWildcardHost('127.0.0.1')).toBe(false);
  });
});
