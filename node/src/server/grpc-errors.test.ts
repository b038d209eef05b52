// Which failures tell a forwarding member (and clients) that a write certainly did not apply.
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import {
  NotLeaderError,
  ProposalDroppedError,
  ProposalRefusedError,
  ReplicaStoppedError,
  ReplicaTimeoutError,
} from '../replica/errors.js';
import {
  isNotApplied,
  isWrongShard,
  NOT_APPLIED_HEADER,
  StatusError,
  toServiceError,
  WrongShardError,
} from './grpc-errors.js';
import { SLOT_REDIRECT_HEADER } from '../../shared/client/slot-redirect.js';

function serviceError(code: status, notApplied: boolean): ServiceError {
  const metadata = new Metadata();
  if (notApplied) metadata.set(NOT_APPLIED_HEADER, '1');
  return Object.assign(new Error(`${code}`), { code, details: 'from the leader', metadata });
}

describe('not-applied failures', () => {
  test('refusals before proposing and overwritten entries are marked; unknown outcomes are not', () => {
    expect(isNotApplied(new NotLeaderError('b'))).toBe(true);
    expect(isNotApplied(new ProposalRefusedError('transferringLeadership'))).toBe(true);
    expect(isNotApplied(new ProposalDroppedError(7, 2))).toBe(true);
    expect(isNotApplied(new StatusError(status.UNAVAILABLE, 'no leader', true))).toBe(true);
    // A timeout, a stop with the write pending or a broken connection: it may still apply.
    expect(isNotApplied(new ReplicaTimeoutError('slow'))).toBe(false);
    expect(isNotApplied(new ReplicaStoppedError())).toBe(false);
    expect(isNotApplied(new StatusError(status.UNAVAILABLE, 'other'))).toBe(false);
    expect(isNotApplied(serviceError(status.UNAVAILABLE, false))).toBe(false);
  });

  test('the mark travels in trailing metadata, so a forwarding member can read it', () => {
    const sent = toServiceError(new ProposalRefusedError('transferringLeadership'));
    expect(sent.code).toBe(status.UNAVAILABLE);
    expect(sent.metadata?.get(NOT_APPLIED_HEADER)).toEqual(['1']);
    expect(toServiceError(new ReplicaTimeoutError('slow')).metadata?.get(NOT_APPLIED_HEADER)).toEqual([]);
    expect(isNotApplied(serviceError(status.UNAVAILABLE, true))).toBe(true);
  });
});

describe('wrong-shard refusals', () => {
  const redirect = { slot: 7, epoch: 3, owner: 2, moving: false };

  it('say where the slot is, are not applied, and keep the redirect when relayed by a forwarding member', () => {
    const local = new WrongShardError(redirect, 0);
    expect(local.message).toBe('slot 7 is not served by shard 0; shard 2 serves it (epoch 3)');
    expect(isNotApplied(local)).toBe(true);
    expect(isWrongShard(local)).toBe(true);
    const wire = toServiceError(local);
    expect(wire.code).toBe(status.FAILED_PRECONDITION);
    expect(JSON.parse(String(wire.metadata?.get(SLOT_REDIRECT_HEADER)[0]))).toEqual(redirect);
    // As the forwarding member receives it from the leader, and passes it on.
    const relayed = Object.assign(new Error('relayed'), {
      code: wire.code,
      details: wire.details,
      metadata: wire.metadata,
    }) as ServiceError;
    expect(isWrongShard(relayed)).toBe(true);
    expect(JSON.parse(String(toServiceError(relayed).metadata?.get(SLOT_REDIRECT_HEADER)[0]))).toEqual(
      redirect,
    );
    expect(isWrongShard(serviceError(status.UNAVAILABLE, true))).toBe(false);
  });

  it('while the slot moves, ask for a retry shortly', () => {
    const moving = toServiceError(new WrongShardError({ ...redirect, owner: undefined, moving: true }, 1));
    expect(moving.code).toBe(status.UNAVAILABLE);
    expect(moving.details).toBe(
      'slot 7 is moving between shard 1 and another shard (epoch 3); retry shortly',
    );
  });
});
