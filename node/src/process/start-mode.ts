// How a member starts, decided from what is on disk, what it was told, and what its peers say. Pure.
//
// - restart:   the data directory holds a log: recover it, whatever the flags say.
// - bootstrap: a fresh directory, --initial-cluster-state=new, and no founding peer reports an existing cluster:
//              start from the founding configuration with the member name as Raft id.
// - join:      a fresh directory otherwise: start empty with a new incarnation id and wait to be added as a learner.
//              This includes a founding member whose data was wiped while the cluster lives on: it must never
//              come back as its old self (it forgot its votes and its log).

export type StartMode = 'restart' | 'bootstrap' | 'join';

export interface StartFacts {
  readonly freshDirectory: boolean;
  readonly initialClusterState: 'new' | 'existing';
  /** Whether any founding peer answered that a cluster with data already exists. */
  readonly peersReportExistingCluster: boolean;
}

export function decideStartMode(facts: StartFacts): StartMode {
  if (!facts.freshDirectory) return 'restart';
  if (facts.initialClusterState === 'new' && !facts.peersReportExistingCluster) return 'bootstrap';
  return 'join';
}

export function startModeReason(mode: StartMode, facts: StartFacts): string {
  switch (mode) {
    case 'restart':
      return 'the data directory holds a log; recovering it';
    case 'bootstrap':
      return 'fresh data directory and --initial-cluster-state=new; founding the cluster';
    case 'join':
      return facts.initialClusterState === 'new'
        ? 'fresh data directory but the cluster already exists (this member was wiped or replaced); joining as a new incarnation, waiting to be added as a learner'
        : 'fresh data directory and --initial-cluster-state=existing; waiting to be added as a learner';
  }
}
