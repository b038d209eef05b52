import { faultRequest } from './fault.js';

describe('fault CLI', () => {
  it('maps commands to fault API requests', () => {
    expect(faultRequest(['pods'])).toEqual({ method: 'GET', path: '/pods' });
    expect(faultRequest(['partition', 'db/web-0', '10.244.1.2,10.244.2.3'])).toEqual({
      method: 'POST',
      path: '/pods/db/web-0/partition?peers=10.244.1.2%2C10.244.2.3',
    });
    expect(faultRequest(['kill', 'db/web-0'])).toEqual({ method: 'POST', path: '/pods/db/web-0/kill' });
    expect(faultRequest(['stop-node', 'node-2', '--kill'])).toEqual({
      method: 'POST',
      path: '/nodes/node-2/stop?kill=true',
    });
    expect(faultRequest(['start-node', 'node-2'])).toEqual({ method: 'POST', path: '/nodes/node-2/start' });
  });
  it('rejects a pod without a namespace and unknown commands', () => {
    expect(() => faultRequest(['heal', 'web-0'])).toThrow(/<namespace>\/<pod>/);
    expect(() => faultRequest(['explode'])).toThrow(/unknown command/);
  });
});
