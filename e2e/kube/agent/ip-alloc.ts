// Pod IPs from a node's IPv4 /16..../30 pod CIDR, skipping the network, the first address (reserved, like a gateway)
// and broadcast. Handed out in turn after the last one given, wrapping at the end of the range, as the CNI host-local
// IPAM that kind and minikube use does: a released address is reused only after the range wrapped. Lowest-free reuse
// (what this did before) gave a recreated pod the address a just-deleted pod's DNS name still pointed at, so peers
// reached the wrong member for as long as DNS lagged, which a real cluster rarely shows. Deterministic, so a test can
// predict it.

export function parseIPv4(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) throw new Error(`invalid IPv4 address ${ip}`);
  let n = 0;
  for (const p of parts) {
    const v = Number(p);
    if (!/^\d{1,3}$/.test(p) || v > 255) throw new Error(`invalid IPv4 address ${ip}`);
    n = n * 256 + v;
  }
  return n;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export class IpAllocator {
  private readonly base: number;
  private readonly size: number;
  private readonly used = new Map<string, string>();
  /** Offset in the range of the address handed out last; the next search starts after it. */
  private lastOffset = 1;

  constructor(readonly cidr: string) {
    const [addr, bits] = cidr.split('/');
    const prefix = Number(bits);
    if (addr === undefined || !Number.isInteger(prefix) || prefix < 16 || prefix > 30)
      throw new Error(`pod CIDR ${cidr}: need an IPv4 prefix between /16 and /30`);
    this.size = 2 ** (32 - prefix);
    this.base = parseIPv4(addr) - (parseIPv4(addr) % this.size);
  }

  /** Idempotent per owner: a pod that asks again gets the address it already has. */
  allocate(owner: string): string {
    for (const [ip, o] of this.used) if (o === owner) return ip;
    const hosts = this.size - 3; // offsets 2 .. size-2
    for (let step = 1; step <= hosts; step++) {
      const offset = 2 + ((this.lastOffset - 2 + step + hosts) % hosts);
      const ip = formatIPv4(this.base + offset);
      if (!this.used.has(ip)) {
        this.used.set(ip, owner);
        this.lastOffset = offset;
        return ip;
      }
    }
    throw new Error(`pod CIDR ${this.cidr} exhausted (${this.used.size} addresses in use)`);
  }

  release(owner: string): void {
    for (const [ip, o] of this.used) if (o === owner) this.used.delete(ip);
  }

  inUse(): number {
    return this.used.size;
  }
}
