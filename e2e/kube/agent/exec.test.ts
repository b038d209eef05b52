import { CommandError, run } from './exec.js';

describe('run', () => {
  it('returns output and passes stdin', async () => {
    expect((await run(['cat'], { input: 'hello' })).stdout).toBe('hello');
  });
  it('throws a CommandError naming the command and its stderr on failure', async () => {
    await expect(run(['sh', '-c', 'echo boom >&2; exit 3'])).rejects.toThrow(CommandError);
    await expect(run(['sh', '-c', 'echo boom >&2; exit 3'])).rejects.toThrow(/sh -c .*exit 3: boom/);
    expect((await run(['sh', '-c', 'exit 4'], { allowFailure: true })).code).toBe(4);
  });
  it('kills a command that outlives its timeout', async () => {
    await expect(run(['sleep', '5'], { timeoutMs: 100 })).rejects.toThrow(/timed out after 100 ms/);
  });
  it('reports a missing binary', async () => {
    await expect(run(['/nonexistent/tool'])).rejects.toThrow(/nonexistent\/tool/);
  });
});
