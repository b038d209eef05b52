import { missingPackages, SYSTEM_TOOLS } from './system-tools.js';

describe('system tools', () => {
  it('names each missing Debian package once, sorted', () => {
    const have = new Set(['ip', 'mount', 'umount', 'ps', 'openssl', 'flock', 'nsenter']);
    expect(missingPackages((c) => have.has(c))).toEqual(['iptables', 'util-linux']);
  });

  it('is empty when every tool is there', () => {
    expect(missingPackages(() => true)).toEqual([]);
  });

  it('covers the tools the node agent runs (a fresh machine lacked iptables)', () => {
    for (const tool of ['ip', 'iptables', 'iptables-restore', 'iptables-save', 'nsenter'])
      expect(SYSTEM_TOOLS[tool]).toBeDefined();
  });
});
