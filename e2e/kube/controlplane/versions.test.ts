import { kubernetesVersion, parseVersions } from './versions.js';

describe('parseVersions', () => {
  it('reads KEY=version lines and skips comments', () => {
    expect(parseVersions('# pins\nK8S_VERSION=v1.33.13\n\nETCD_VERSION=v3.6.16\n')).toEqual({
      K8S_VERSION: 'v1.33.13',
      ETCD_VERSION: 'v3.6.16',
    });
  });
  it('rejects lines a shell would treat differently (quotes, spaces, commands)', () => {
    expect(() => parseVersions('K8S_VERSION="v1.33.13"')).toThrow(/line 1/);
    expect(() => parseVersions('X=1\n')).toThrow(/expected KEY=vX.Y.Z/);
    expect(() => parseVersions('export K8S_VERSION=v1')).toThrow(/versions.env line 1/);
  });
});

describe('kubernetesVersion', () => {
  it('reads the pinned release from the real versions.env', () => {
    expect(kubernetesVersion()).toMatch(/^v1\.\d+\.\d+$/);
  });
});
