import { mkdtemp, mkdir, realpath, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hostDirectory } from './volumes.js';

describe('hostDirectory', () => {
  test('resolves symlinks on the host, so a mount hiding the link inside the pod cannot hide the volume', async () => {
    const root = await realpath(await mkdtemp(path.join(tmpdir(), 'rsk-vol-')));
    await mkdir(path.join(root, 'real'));
    await symlink(path.join(root, 'real'), path.join(root, 'link'));
    expect(await hostDirectory(path.join(root, 'link', 'pvc-1'))).toBe(path.join(root, 'real', 'pvc-1'));
  });
});
