import { grpcSlotGroups } from './slot-groups.js';

test('a closed session opens no new channel: every later call fails with a clear error', async () => {
  const session = grpcSlotGroups(new Map([[0, ['127.0.0.1:1']]]));
  session.close();
  await expect(Promise.resolve().then(() => session.groups.status(0, [0]))).rejects.toThrow(
    'shard 0: the slot-move session is closed',
  );
});

test('a shard without a member address fails with a clear error', async () => {
  const session = grpcSlotGroups(new Map());
  try {
    await expect(Promise.resolve().then(() => session.groups.status(2, [0]))).rejects.toThrow(
      'shard 2: no member address to move slots with',
    );
  } finally {
    session.close();
  }
});
