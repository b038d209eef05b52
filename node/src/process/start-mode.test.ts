import { decideStartMode } from './start-mode.js';

describe('start mode', () => {
  test('a directory with a log always restarts from it', () => {
    for (const initialClusterState of ['new', 'existing'] as const) {
      for (const peersReportExistingCluster of [true, false]) {
        expect(
          decideStartMode({ freshDirectory: false, initialClusterState, peersReportExistingCluster }),
        ).toBe('restart');
      }
    }
  });

  test('a fresh founder bootstraps only when no peer has a cluster', () => {
    expect(
      decideStartMode({
        freshDirectory: true,
        initialClusterState: 'new',
        peersReportExistingCluster: false,
      }),
    ).toBe('bootstrap');
    expect(
      decideStartMode({ freshDirectory: true, initialClusterState: 'new', peersReportExistingCluster: true }),
    ).toBe('join');
  });

  test('a fresh member of an existing cluster joins', () => {
    expect(
      decideStartMode({
        freshDirectory: true,
        initialClusterState: 'existing',
        peersReportExistingCluster: false,
      }),
    ).toBe('join');
  });
});
