// Asks the OS for free loopback ports. Another process could take one before we bind it; callers that start a
// server on it retry with fresh ports if binding fails. A port is free again as soon as it was probed, so callers
// that take ports for several servers before starting any pass the ones they hold (`taken`): the OS may well hand
// the same port out twice.
import { createServer } from 'node:net';

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** Probes at most this many ports per port wanted before giving up (each probe is one listen and close). */
const PROBES_PER_PORT = 50;

export async function freePorts(
  count: number,
  host = '127.0.0.1',
  taken: ReadonlySet<number> = new Set(),
  probe: (host: string) => Promise<number> = freePort,
): Promise<number[]> {
  const ports = new Set<number>();
  for (let probes = 0; ports.size < count; probes++) {
    if (probes >= count * PROBES_PER_PORT) {
      throw new Error(`found ${ports.size} of ${count} free ports on ${host} in ${probes} probes`);
    }
    const port = await probe(host);
    if (!taken.has(port)) ports.add(port);
  }
  return [...ports];
}
