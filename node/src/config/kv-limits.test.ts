import { DEFAULT_KV_LIMITS } from '../kv/limits.js';
import { kvLimitsFromConfig } from './kv-limits.js';
import { parseNodeConfig } from './node-config.js';

const BASE = [
  '--name=a',
  '--cluster-id=c',
  '--data-dir=/d',
  '--client-listen=h:1',
  '--peer-listen=h:2',
  '--initial-members=a=h:2',
];

describe('kvLimitsFromConfig', () => {
  it('matches the KV defaults when no limit flag is given', () => {
    expect(kvLimitsFromConfig(parseNodeConfig(BASE, {}))).toEqual(DEFAULT_KV_LIMITS);
  });

  it('takes the configured key, value and transaction limits', () => {
    const config = parseNodeConfig(
      [...BASE, '--max-key-bytes=10', '--max-value-bytes=20', '--max-txn-ops=3'],
      {},
    );
    expect(kvLimitsFromConfig(config)).toEqual({
      ...DEFAULT_KV_LIMITS,
      maxKeyBytes: 10,
      maxValueBytes: 20,
      maxTxnOps: 3,
    });
  });
});
