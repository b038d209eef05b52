// Bootstrap: a shard's founders (the pods of its first StatefulSet size, started with initial-cluster-state=new)
// form its first configuration. Once every founder is a healthy voter, new pods must join, never found a second
// cluster: a founder whose volume was lost would otherwise start a fresh one-member cluster under the same name.
import { podNameOf, type ShardView } from './shard-view.js';
import { waitStep, type Step } from './step.js';

/** While the shard is still founding: switch new pods to joining once it is formed, or wait for the founders. */
export function finishBootstrap(view: ShardView): Step | undefined {
  const { sts, shard, byName, pods } = view;
  if (sts.initialClusterState !== 'new') return undefined;
  const founders = Array.from({ length: sts.replicas }, (_, i) => byName.get(podNameOf(view, i)));
  // A founder that started after the others had formed the shard finds it existing and joins under a new id: it
  // will never be the founder voter the others list, so waiting for that would never end. Bootstrap is over;
  // fencing replaces its founder id with the new incarnation.
  const lateFounder = pods.find((p) => {
    const m = byName.get(p.name);
    return p.ordinal < sts.replicas && m !== undefined && p.identity !== undefined && p.identity.id !== m.id;
  });
  if (
    lateFounder !== undefined ||
    founders.every((m) => m !== undefined && m.role === 'voter' && m.healthy)
  ) {
    return {
      type: 'Bootstrap',
      step: 'SwitchToExisting',
      message:
        lateFounder !== undefined
          ? `shard ${shard}: founder ${lateFounder.name} started after the others formed the cluster and joined as a new member; new pods will join as learners`
          : `shard ${shard}: ${sts.replicas} founder(s) formed the cluster; new pods will join as learners`,
      shard,
      action: { type: 'SetInitialClusterState', shard, state: 'existing' },
    };
  }
  return waitStep(
    view,
    'Bootstrap',
    'WaitFounders',
    `shard ${shard}: ${view.healthyVoters}/${sts.replicas} founders up`,
  );
}
