// Which failures tell a forwarding member (and clients) that a write certainly did not apply.
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import {
  NotLeaderError,
  ProposalDroppedError,
  ProposalRefusedError,
  ReplicaStoppedError,
  ReplicaTimeoutError,
} from '../replica/errors.js';
import { isNotApplied, NOT_APPLIED_HEADER, StatusError, toServiceError } from './grpc-errors.js';

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
