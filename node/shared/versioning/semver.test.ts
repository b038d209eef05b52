import { describe, expect, it } from '@jest/globals';
import { compareSemVer, parseSemVer, releaseLine, type SemVer } from './semver.js';

const v = (text: string): SemVer => {
  const parsed = parseSemVer(text);
  if (parsed === undefined) throw new Error(`not a version: ${text}`);
  return parsed;
};

describe('parseSemVer', () => {
  it('reads major.minor.patch with an optional v, pre-release and build metadata', () => {
    expect(v('0.2.0')).toEqual({ major: 0, minor: 2, patch: 0, prerelease: [] });
    expect(v('v1.10.3-rc.1+build.5')).toEqual({ major: 1, minor: 10, patch: 3, prerelease: ['rc', '1'] });
  });

  it('refuses what is not a semantic version', () => {
    for (const bad of ['', '1', '1.2', '1.2.x', 'latest', '1.2.3.4', '99999999999999999999.0.0'])
      expect(parseSemVer(bad)).toBeUndefined();
  });
});

describe('compareSemVer', () => {
  it('orders by semver precedence', () => {
    const ordered = [
      '0.1.0',
      '0.1.1',
      '0.2.0-alpha',
      '0.2.0-alpha.1',
      '0.2.0-alpha.beta',
      '0.2.0-beta.2',
      '0.2.0-beta.11',
      '0.2.0',
      '0.10.0',
      '1.0.0',
    ];
    for (let i = 0; i + 1 < ordered.length; i++) {
      expect(compareSemVer(v(ordered[i]!), v(ordered[i + 1]!))).toBe(-1);
      expect(compareSemVer(v(ordered[i + 1]!), v(ordered[i]!))).toBe(1);
    }
  });

  it('ignores build metadata and the leading v', () => {
    expect(compareSemVer(v('v0.2.0+a'), v('0.2.0+b'))).toBe(0);
  });

  it('names the release line', () => {
    expect(releaseLine(v('0.2.7'))).toBe('0.2');
  });
});
