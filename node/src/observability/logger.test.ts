import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createLogger } from './logger.js';

/** A destination that keeps every line pino writes, parsed. pino writes one whole JSON line per write call. */
function capture(): { stream: Writable; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { stream, lines };
}

describe('createLogger', () => {
  it('writes JSON lines carrying cluster, shard and member, with a level name and an ISO time', () => {
    const { stream, lines } = capture();
    const log = createLogger({
      level: 'info',
      cluster: 'prod',
      shard: 3,
      member: 'node-0',
      destination: stream,
    });
    log.info({ index: 7 }, 'applied');
    expect(lines).toHaveLength(1);
    const line = lines[0] ?? {};
    expect(line).toMatchObject({
      level: 'info',
      cluster: 'prod',
      shard: 3,
      member: 'node-0',
      index: 7,
      msg: 'applied',
    });
    expect(Object.keys(line)).not.toContain('pid');
    expect(Object.keys(line)).not.toContain('hostname');
    expect(String(line.time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('adds context in child loggers without losing the identity', () => {
    const { stream, lines } = capture();
    const log = createLogger({ level: 'debug', cluster: 'c', shard: 0, member: 'm', destination: stream });
    log.child({ term: 5 }).debug('became leader');
    expect(lines).toEqual([
      expect.objectContaining({ level: 'debug', cluster: 'c', shard: 0, member: 'm', term: 5 }),
    ]);
  });

  it('drops lines below the configured level, and writes nothing when silent', () => {
    const { stream, lines } = capture();
    const log = createLogger({ level: 'warn', cluster: 'c', shard: 0, member: 'm', destination: stream });
    log.info('hidden');
    log.warn('shown');
    expect(lines.map((l) => l.msg)).toEqual(['shown']);
    const quiet = createLogger({ level: 'silent', cluster: 'c', shard: 0, member: 'm', destination: stream });
    quiet.fatal('hidden');
    expect(lines).toHaveLength(1);
  });

  it('serialises errors with their message and stack', () => {
    const { stream, lines } = capture();
    const log = createLogger({ level: 'info', cluster: 'c', shard: 0, member: 'm', destination: stream });
    log.error({ err: new Error('disk full') }, 'append failed');
    expect(lines[0]).toMatchObject({ level: 'error', msg: 'append failed', err: { message: 'disk full' } });
    expect(JSON.stringify(lines[0])).toContain('logger.test.ts');
  });

  it('writes to stdout by default, and a line logged right before exit is not lost', () => {
    const fixture = fileURLToPath(new URL('./logger-stdout.fixture.ts', import.meta.url));
    const child = spawnSync(process.execPath, ['--import', 'tsx', fixture], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(child.status).toBe(3);
    const lines = child.stdout.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      level: 'fatal',
      member: 'm',
      code: 7,
      msg: 'about to exit',
    });
  }, 30_000); // starting Node with tsx takes seconds on a loaded machine
});
