import { handleFault, type FaultTarget } from './faults.js';
import type { NodeAgent } from './node-agent.js';

// A node stand-in with just what the fault API touches; the real NodeAgent needs an API server.
function fakeNode(name: string, log: string[]): NodeAgent {
  const pod = {
    key: 'db/web-0',
    uid: 'u1',
    ip: '10.244.1.2',
    names: { netns: 'rsk-x', hostVeth: 'rskvx' },
    pids: () => ({ app: 42 }),
    isPartitioned: () => false,
    killProcesses: (c?: string) => (log.push(`kill ${c ?? '*'}`), 1),
    partition: (peers: string[]) => Promise.resolve(void log.push(`partition ${peers.join(',')}`)),
    heal: () => Promise.resolve(void log.push('heal')),
  };
  return {
    node: { name },
    pods: () => (name === 'node-1' ? [pod] : []),
    find: (k: string) => (name === 'node-1' && k === 'db/web-0' ? pod : undefined),
    stop: (kill: boolean) => log.push(`stop ${name} ${kill}`),
    resume: () => log.push(`start ${name}`),
  } as unknown as NodeAgent;
}

describe('fault API', () => {
  const log: string[] = [];
  const t: FaultTarget = {
    nodes: [fakeNode('node-1', log), fakeNode('node-2', log)],
    serviceCidr: '10.96.0.0/16',
    keepServiceIPs: [],
  };
  const call = (m: string, p: string): Promise<unknown> => handleFault(t, m, new URL(p, 'http://x'));

  it('lists pods with their node, IP and pids', async () => {
    expect(await call('GET', '/pods')).toEqual([
      {
        key: 'db/web-0',
        uid: 'u1',
        node: 'node-1',
        ip: '10.244.1.2',
        netns: 'rsk-x',
        pids: { app: 42 },
        partitioned: false,
      },
    ]);
  });
  it('routes pod and node faults', async () => {
    await call('POST', '/pods/db/web-0/partition?peers=10.244.2.2');
    await call('POST', '/pods/db/web-0/heal');
    await call('POST', '/pods/db/web-0/kill?container=app');
    await call('POST', '/nodes/node-2/stop?kill=true');
    await call('POST', '/nodes/node-2/start');
    expect(log).toEqual(['partition 10.244.2.2', 'heal', 'kill app', 'stop node-2 true', 'start node-2']);
  });
  it('answers unknown pods with 404 and bad peers with 400', async () => {
    await expect(call('POST', '/pods/db/nope/kill')).rejects.toMatchObject({ status: 404 });
    await expect(call('POST', '/pods/db/web-0/partition?peers=evil;rm')).rejects.toMatchObject({
      status: 400,
    });
    await expect(call('GET', '/nodes/node-1/stop')).rejects.toMatchObject({ status: 405 });
  });
});
