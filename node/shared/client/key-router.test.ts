// The router's handling of a slot in motion: it waits and asks again within its budget, then gives up with the
// refusal; any other error is not retried here.
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { FailoverClient } from './failover-client.js';
import { KeyRouter } from './key-router.js';

function refusal(code: status, redirect: object | undefined): ServiceError {
  const metadata = new Metadata();
  if (redirect !== undefined) metadata.set('x-raftstore-slot-redirect', JSON.stringify(redirect));
  const fields: Pick<ServiceError, 'code' | 'details' | 'metadata'> = { code, details: 'refused', metadata };
  return Object.assign(new Error('refused'), fields);
}

const MOVING = refusal(status.UNAVAILABLE, { slot: 1, epoch: 3, owner: 1, moving: true });

function router(budgetMs: number): { router: KeyRouter; slept: number[]; client: FailoverClient } {
  let clock = 0;
  const slept: number[] = [];
  // Never called: the map is given, and the calls below are the test's own.
  const client = new FailoverClient(['127.0.0.1:1'], 1000);
  const r = new KeyRouter(client, {
    movingBudgetMs: budgetMs,
    initialMap: [{ start: 0, end: 4095, shard: 0 }],
    now: () => clock,
    sleep: (ms) => {
      slept.push(ms);
      clock += ms;
      return Promise.resolve();
    },
  });
  return { router: r, slept, client };
}

test('a slot in motion is asked again with backoff until the move ends', async () => {
  const { router: r, slept, client } = router(10_000);
  let calls = 0;
  const result = await r.call('k', () => (++calls < 5 ? Promise.reject(MOVING) : Promise.resolve('ok')));
  expect(result).toBe('ok');
  expect(slept).toEqual([25, 50, 100, 200]);
  client.close();
});

test('past its budget the call fails with the moving refusal', async () => {
  const { router: r, slept, client } = router(1_000);
  await expect(r.call('k', () => Promise.reject(MOVING))).rejects.toBe(MOVING);
  expect(slept.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1_000);
  client.close();
});

test('an UNAVAILABLE without a moving redirect is not the router’s to retry', async () => {
  const { router: r, slept, client } = router(10_000);
  const down = refusal(status.UNAVAILABLE, undefined);
  await expect(r.call('k', () => Promise.reject(down))).rejects.toBe(down);
  expect(slept).toEqual([]);
  client.close();
});
