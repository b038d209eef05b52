import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { isSlotMoving, wrongShardRedirect } from './key-router.js';
import { SLOT_REDIRECT_HEADER, slotRedirectOf } from './slot-redirect.js';

function refusal(code: status, trailer: string | undefined): ServiceError {
  const metadata = new Metadata();
  if (trailer !== undefined) metadata.set(SLOT_REDIRECT_HEADER, trailer);
  return Object.assign(new Error('refused'), { code, details: 'refused', metadata });
}

test('the redirect trailer is read as the member wrote it; a malformed one is no redirect', () => {
  const moved = refusal(status.FAILED_PRECONDITION, '{"slot":7,"epoch":3,"owner":2,"moving":false}');
  expect(slotRedirectOf(moved)).toEqual({ slot: 7, epoch: 3, owner: 2, moving: false });
  expect(wrongShardRedirect(moved)).toEqual({ slot: 7, owner: 2 });
  expect(isSlotMoving(moved)).toBe(false);

  const noIdea = refusal(status.FAILED_PRECONDITION, '{"slot":7,"epoch":3,"moving":false}');
  expect(slotRedirectOf(noIdea)).toEqual({ slot: 7, epoch: 3, owner: undefined, moving: false });
  expect(wrongShardRedirect(noIdea)).toEqual({ slot: 7 });

  const moving = refusal(status.UNAVAILABLE, '{"slot":7,"epoch":3,"owner":2,"moving":true}');
  expect(isSlotMoving(moving)).toBe(true);
  expect(wrongShardRedirect(moving)).toBeUndefined(); // a slot in motion is waited on, not re-routed

  for (const bad of ['not json', '{"slot":"7","epoch":3,"moving":false}', '{"slot":7,"moving":false}']) {
    expect(slotRedirectOf(refusal(status.FAILED_PRECONDITION, bad))).toBeUndefined();
  }
  expect(slotRedirectOf(refusal(status.FAILED_PRECONDITION, undefined))).toBeUndefined();
  expect(slotRedirectOf(new Error('no metadata'))).toBeUndefined();
});
