import { normaliseImageRef, parseImageTable, resolveImage } from './images.js';

const table = parseImageTable({
  images: {
    'raftstore/node:0.1.0': {
      argv: ['node', '${REPO}/dist/main.js'],
      cwd: '${REPO}',
      env: { ROOT: '${REPO}/x' },
    },
    'busybox:1': { argv: ['/bin/sh'] },
  },
});

describe('images', () => {
  it('expands ${REPO} and appends args to the entrypoint', () => {
    const r = resolveImage(table, 'raftstore/node:0.1.0', '/repo', undefined, ['--id', '1']);
    expect(r?.argv).toEqual(['node', '/repo/dist/main.js', '--id', '1']);
    expect(r?.cwd).toBe('/repo');
    expect(r?.env).toEqual({ ROOT: '/repo/x' });
    expect(r?.imageID).toMatch(/^local:\/\/raftstore\/node:0\.1\.0@sha256:[0-9a-f]{64}$/);
  });
  it('lets the container command replace the entrypoint', () => {
    expect(resolveImage(table, 'busybox:1', '/r', ['echo'], ['hi'])?.argv).toEqual(['echo', 'hi']);
  });
  it('treats docker.io/library prefixes as the short name', () => {
    expect(resolveImage(table, 'docker.io/library/busybox:1', '/r', undefined, undefined)?.argv).toEqual([
      '/bin/sh',
    ]);
    expect(normaliseImageRef('busybox')).toBe('busybox:latest');
    expect(normaliseImageRef('reg:5000/a/b')).toBe('reg:5000/a/b:latest');
  });
  it('returns undefined for an unknown image or tag', () => {
    expect(resolveImage(table, 'raftstore/node:9.9.9', '/r', undefined, undefined)).toBeUndefined();
  });
  it('rejects malformed entries with the image name in the error', () => {
    expect(() => parseImageTable({ images: { 'x:1': { argv: 'node' } } })).toThrow(/x:1: argv/);
    expect(() => parseImageTable({})).toThrow(/missing "images"/);
  });
});
