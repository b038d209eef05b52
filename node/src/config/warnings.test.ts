import { parseNodeConfig } from './node-config.js';
import { configWarnings } from './warnings.js';

const BASE = [
  '--name=a',
  '--cluster-id=c',
  '--data-dir=/d',
  '--client-listen=h:1',
  '--peer-listen=h:2',
  '--initial-members=a=h:2',
];

describe('configWarnings', () => {
  it('is silent for the defaults', () => {
    expect(configWarnings(parseNodeConfig(BASE, {}))).toEqual([]);
  });

  it('warns when fsync is off', () => {
    expect(configWarnings(parseNodeConfig([...BASE, '--fsync=false'], {}))).toEqual([
      expect.stringMatching(/^--fsync=false: .*acknowledged writes can be lost.*tests/),
    ]);
  });

  it('warns when requests would time out during an election', () => {
    expect(configWarnings(parseNodeConfig([...BASE, '--request-timeout-ms=1000'], {}))).toEqual([
      expect.stringContaining(
        '--request-timeout-ms=1000 is not above the election timeout (--election-ticks × --tick-ms = 1000 ms)',
      ),
    ]);
    expect(configWarnings(parseNodeConfig([...BASE, '--request-timeout-ms=1001'], {}))).toEqual([]);
  });
});
