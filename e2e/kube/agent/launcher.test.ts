import { execFileSync } from 'node:child_process';
import { renderLauncher, shellQuote } from './launcher.js';

describe('launcher', () => {
  it('quotes arguments so the shell passes them through unchanged', () => {
    const args = ["it's", '$HOME', 'a b', '`x`', ''];
    const out = execFileSync('/bin/sh', ['-c', `printf '%s\\n' ${args.map(shellQuote).join(' ')}`], {
      encoding: 'utf8',
    });
    expect(out).toBe(args.join('\n') + '\n');
  });
  it('mounts shallow targets before deep ones, remounts read-only ones, then execs', () => {
    const s = renderLauncher(
      [
        { source: '/s/deep', target: '/data/sub', readOnly: true },
        { source: '/s/top', target: '/data', readOnly: false },
      ],
      ['node', 'x.js'],
      '/repo',
      'web-0',
    );
    expect(s).toContain("hostname 'web-0'\ncd '/repo'\n");
    const lines = s.split('\n');
    expect(lines.indexOf("mount --bind '/s/top' '/data'")).toBeLessThan(
      lines.indexOf("mount --bind '/s/deep' '/data/sub'"),
    );
    expect(s).toContain("mount -o remount,bind,ro '/data/sub'");
    expect(s.trimEnd().endsWith("exec 'node' 'x.js'")).toBe(true);
  });
  it('mounts the image root before every volume, so a volume at /tmp cannot hide a checkout under /tmp', () => {
    const s = renderLauncher(
      [{ source: '/pods/1/tmp', target: '/tmp', readOnly: false }],
      ['node', '/opt/raftstore-image/dist/main.js'],
      '/opt/raftstore-image',
      undefined,
      { source: '/tmp/checkout', target: '/opt/raftstore-image', readOnly: false },
    );
    const lines = s.split('\n');
    expect(lines.indexOf("mount --bind '/tmp/checkout' '/opt/raftstore-image'")).toBeGreaterThan(0);
    expect(lines.indexOf("mount --bind '/tmp/checkout' '/opt/raftstore-image'")).toBeLessThan(
      lines.indexOf("mount --bind '/pods/1/tmp' '/tmp'"),
    );
  });
  it('rejects relative mount paths and empty commands', () => {
    expect(() => renderLauncher([{ source: '/a', target: 'rel', readOnly: false }], ['x'], '/')).toThrow(
      /not absolute/,
    );
    expect(() => renderLauncher([], [], '/')).toThrow(/empty command/);
  });
});
