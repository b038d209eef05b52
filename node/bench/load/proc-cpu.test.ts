// /proc/stat's machine-wide line: busy time without idle, iowait and steal; steal apart.
import { parseProcStat } from './proc-cpu.js';

test('busy is user + nice + system + irq + softirq, steal apart, in microseconds', () => {
  const text = 'cpu  300 10 100 5000 20 5 15 40 0 0\ncpu0 150 5 50 2500 10 2 8 20 0 0\nintr 1\n';
  expect(parseProcStat(text)).toEqual({ busy_us: 4_300_000, steal_us: 400_000 });
});

test('a file without the machine-wide line is refused', () => {
  expect(() => parseProcStat('cpu0 1 2 3 4 5 6 7 8\n')).toThrow('cannot parse /proc/stat');
});
