// Ports probed for several servers before any binds: a port handed out once must not be handed out again, and a
// search that keeps meeting taken ports ends with an error instead of spinning.
import { freePorts } from './free-port.js';

function probeOf(ports: number[]): () => Promise<number> {
  let i = 0;
  return () => Promise.resolve(ports[Math.min(i++, ports.length - 1)]!);
}

test('skips ports already taken and ports it found itself', async () => {
  const ports = await freePorts(2, '127.0.0.1', new Set([5000]), probeOf([5000, 5001, 5001, 5000, 5002]));
  expect(ports).toEqual([5001, 5002]);
});

test('gives up with a clear error when the OS keeps offering taken ports', async () => {
  await expect(freePorts(2, '127.0.0.1', new Set([5000]), probeOf([5000]))).rejects.toThrow(
    'found 0 of 2 free ports on 127.0.0.1 in 100 probes',
  );
});

test('real ports: distinct and not among the taken', async () => {
  const first = await freePorts(3);
  const second = await freePorts(3, '127.0.0.1', new Set(first));
  expect(new Set([...first, ...second]).size).toBe(6);
});
