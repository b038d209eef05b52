// Profile summaries: self time summed over several members' profiles, each sample worth its own profile's
// interval, idle apart, and grouped by where the code lives.
import { moduleOf, summarizeProfiles, type CpuProfile } from './cpu-profile.js';

const REPO = '/repo';

function profile(wall_ms: number, hits: [string, string, number][]): CpuProfile {
  return {
    startTime: 0,
    endTime: wall_ms * 1000,
    nodes: hits.map(([functionName, url, hitCount], i) => ({
      id: i + 1,
      callFrame: { functionName, url, lineNumber: 0 },
      hitCount,
    })),
  };
}

test('where code lives: a package, a folder of the repository, a Node module or V8 label', () => {
  expect(moduleOf('file:///repo/node_modules/@grpc/grpc-js/build/src/server.js', 'f', REPO)).toBe(
    '@grpc/grpc-js',
  );
  expect(moduleOf('file:///repo/node_modules/pino/lib/x.js', 'f', REPO)).toBe('pino');
  expect(moduleOf('file:///repo/dist/node/src/server/kv-service.js', 'f', REPO)).toBe('dist/node/src/server');
  expect(moduleOf('node:internal/http2/core', 'f', REPO)).toBe('node:internal/http2/core');
  expect(moduleOf('', '(garbage collector)', REPO)).toBe('(garbage collector)');
});

test('profiles are summed, each sample at its own interval, idle apart', () => {
  const grpc = 'file:///repo/node_modules/@grpc/grpc-js/build/src/server.js';
  const a = profile(100, [
    ['(idle)', '', 50],
    ['handle', grpc, 30],
    ['propose', 'file:///repo/dist/node/src/raft/raw-node.js', 20],
  ]);
  // Half the samples over the same wall time: each is worth 2 ms.
  const b = profile(100, [
    ['(idle)', '', 25],
    ['handle', grpc, 25],
  ]);
  const s = summarizeProfiles([a, b], 10, REPO);
  expect(s.total_ms).toBe(200);
  expect(s.idle_pct).toBeCloseTo(50);
  expect(s.busy_ms).toBeCloseTo(100);
  expect(s.hot[0]).toEqual({
    name: 'handle node_modules/@grpc/grpc-js/build/src/server.js:1',
    self_ms: 80,
    self_pct: 80,
  });
  expect(s.modules.map((m) => [m.name, m.self_ms])).toEqual([
    ['@grpc/grpc-js', 80],
    ['dist/node/src/raft', 20],
  ]);
});

test('cut to windows: only samples taken inside them count, over the wall time they cover', () => {
  const p: CpuProfile = {
    ...profile(10, [
      ['(idle)', '', 0],
      ['startup', 'file:///repo/dist/node/src/main.js', 0],
      ['handle', 'file:///repo/node_modules/@grpc/grpc-js/build/src/server.js', 0],
    ]),
    startTime: 1_000_000,
    endTime: 1_010_000,
    // One sample a millisecond: startup for 4 ms, then idle, handle, idle, handle...
    samples: [2, 2, 2, 2, 1, 3, 1, 3, 1, 3],
    timeDeltas: new Array<number>(10).fill(1000),
  };
  // Samples at 1_001_000 .. 1_010_000; the window [1_004_500, 1_010_500) holds the last six.
  const s = summarizeProfiles([p], 10, REPO, [{ from_us: 1_004_500, to_us: 1_010_500 }]);
  expect(s.total_ms).toBeCloseTo(5.5); // the window, clipped to the profile's end
  expect(s.hot.map((h) => h.name)).toEqual(['handle node_modules/@grpc/grpc-js/build/src/server.js:1']);
  expect(s.idle_pct).toBeCloseTo(50);
  expect(() => summarizeProfiles([profile(1, [])], 10, REPO, [{ from_us: 0, to_us: 1 }])).toThrow(
    'sample times',
  );
});
