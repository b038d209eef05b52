import { Prng } from '../../src/random/prng.js';
import { drawSeedConfig, withoutFaults, type SeedConfig } from './seed-config.js';

function draw(seeds: number): SeedConfig[] {
  return Array.from({ length: seeds }, (_, seed) => drawSeedConfig(new Prng(seed).fork('config')));
}

describe('seed configurations (swarm testing: each seed draws its own mix)', () => {
  const configs = draw(2000);

  test('a share of seeds runs without check-quorum, more of them where elections and Figure 8 logs are stressed', () => {
    const off = (profile: SeedConfig['profile']): number => {
      const of = configs.filter((c) => c.profile === profile);
      return of.filter((c) => !c.node.checkQuorum).length / of.length;
    };
    const all = configs.filter((c) => !c.node.checkQuorum).length / configs.length;
    expect(all).toBeGreaterThan(0.25);
    expect(all).toBeLessThan(0.45);
    expect(off('swarm')).toBeGreaterThan(0.12);
    expect(off('swarm')).toBeLessThan(0.28);
    expect(off('elections')).toBeGreaterThan(0.4);
    expect(off('figure8')).toBeGreaterThan(0.4);
    // Every combination of pre-vote and check-quorum occurs.
    for (const preVote of [true, false]) {
      for (const checkQuorum of [true, false]) {
        expect(configs.some((c) => c.node.preVote === preVote && c.node.checkQuorum === checkQuorum)).toBe(
          true,
        );
      }
    }
  });

  test('back-to-back membership changes are drawn for swarm seeds only (the others keep their voters)', () => {
    expect(configs.filter((c) => c.profile !== 'swarm').every((c) => c.faults.membershipBurst === 0)).toBe(
      true,
    );
    expect(configs.filter((c) => c.faults.membershipBurst > 0.3).length).toBeGreaterThan(100);
  });

  test('without faults: every fault rate is zero; clients, limits and timings stay as drawn', () => {
    const cfg = configs.find((c) => c.profile === 'swarm' && c.faults.crash > 0 && c.network.dropRate > 0)!;
    const calm = withoutFaults(cfg);
    for (const [name, rate] of Object.entries(calm.faults)) {
      if (name.endsWith('MaxMs')) continue;
      expect([name, rate]).toEqual([name, 0]);
    }
    expect(calm.network).toMatchObject({ dropRate: 0, duplicateRate: 0, longDelayRate: 0 });
    expect(calm.network.delayMaxMs).toBe(cfg.network.delayMaxMs);
    expect({ ...calm, faults: cfg.faults, network: cfg.network }).toEqual(cfg);
  });
});
