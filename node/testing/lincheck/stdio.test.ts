// `lincheck FILE | head`: a reader that goes away ends the command quietly with exit code 0 (stdio.ts).
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exitQuietlyOnEpipe } from './stdio.js';

function errno(code: string): Error & { code: string } {
  return Object.assign(new Error(`write ${code}`), { code });
}

describe('exitQuietlyOnEpipe', () => {
  test('EPIPE exits with code 0', () => {
    const stream = new EventEmitter();
    const exits: number[] = [];
    exitQuietlyOnEpipe(stream, (code) => exits.push(code));
    stream.emit('error', errno('EPIPE'));
    expect(exits).toEqual([0]);
  });

  test('any other write error stays fatal', () => {
    const stream = new EventEmitter();
    const exits: number[] = [];
    exitQuietlyOnEpipe(stream, (code) => exits.push(code));
    expect(() => stream.emit('error', errno('ENOSPC'))).toThrow('write ENOSPC');
    expect(exits).toEqual([]);
  });
});

describe('the lincheck command as a child process', () => {
  const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
  /** The repository root, where `--import tsx` resolves from node_modules whatever directory jest started in. */
  const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
  // A stale read: the command prints a violation report of several lines.
  const STALE = [
    '{"client":1,"input":{"op":"put","key":"x","value":"a"},"call":0,"output":{"op":"put"},"return":10}',
    '{"client":1,"input":{"op":"put","key":"x","value":"b"},"call":20,"output":{"op":"put"},"return":30}',
    '{"client":2,"input":{"op":"get","key":"x"},"call":40,"output":{"op":"get","value":"a"},"return":50}',
  ].join('\n');
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lincheck-stdio-'));
    await writeFile(join(dir, 'stale.jsonl'), STALE);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs the command; with `closeStdout`, the reading end of its stdout is closed before it writes a byte. */
  function run(closeStdout: boolean): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, join(dir, 'stale.jsonl')], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    if (closeStdout) child.stdout.destroy();
    else child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  }

  test('with a reader: exit 1 and the violation on stdout', async () => {
    const { code, stdout, stderr } = await run(false);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^not linearizable/);
    expect(code).toBe(1);
  }, 30_000); // starting Node with tsx takes seconds on a loaded machine

  test('without one (`| head` that already exited): exit 0, nothing on stderr', async () => {
    const { code, stderr } = await run(true);
    expect(stderr).toBe('');
    expect(code).toBe(0);
  }, 30_000);
});
