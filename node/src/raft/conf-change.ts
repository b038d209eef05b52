// Encoding and validation of single-server membership changes (Raft thesis §4.1). Conf-change entries are JSON so
// they stay readable in logs and traces; they are rare, so size does not matter.
import type { ConfChange, ConfChangeType, ConfState, NodeId } from './types.js';

const TYPES: readonly ConfChangeType[] = ['addLearner', 'promote', 'remove'];

export function encodeConfChange(cc: ConfChange): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(cc));
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  const parsed: unknown = JSON.parse(new TextDecoder().decode(data));
  if (typeof parsed !== 'object' || parsed === null) throw new Error('conf change: not an object');
  const { type, nodeId, context } = parsed as Record<string, unknown>;
  if (typeof type !== 'string' || !TYPES.includes(type as ConfChangeType)) {
    throw new Error(`conf change: unknown type ${String(type)}`);
  }
  if (typeof nodeId !== 'string' || nodeId === '')
    throw new Error('conf change: nodeId must be a non-empty string');
  if (context !== undefined && typeof context !== 'string')
    throw new Error('conf change: context must be a string');
  return context === undefined
    ? { type: type as ConfChangeType, nodeId }
    : { type: type as ConfChangeType, nodeId, context };
}

/** Why a change cannot apply to a configuration, or undefined when it can. */
export function confChangeProblem(conf: ConfState, cc: ConfChange): string | undefined {
  const isVoter = conf.voters.includes(cc.nodeId);
  const isLearner = conf.learners.includes(cc.nodeId);
  switch (cc.type) {
    case 'addLearner':
      return isVoter || isLearner ? `${cc.nodeId} is already a member` : undefined;
    case 'promote':
      return isLearner ? undefined : `${cc.nodeId} is not a learner`;
    case 'remove':
      if (!isVoter && !isLearner) return `${cc.nodeId} is not a member`;
      if (isVoter && conf.voters.length === 1) return `cannot remove the last voter ${cc.nodeId}`;
      return undefined;
  }
}

/** The configuration after a change; an inapplicable change leaves it as it was. */
export function applyConfChange(conf: ConfState, cc: ConfChange): ConfState {
  if (confChangeProblem(conf, cc) !== undefined) return conf;
  const without = (ids: readonly NodeId[]): NodeId[] => ids.filter((id) => id !== cc.nodeId);
  switch (cc.type) {
    case 'addLearner':
      return { voters: [...conf.voters], learners: [...conf.learners, cc.nodeId].sort() };
    case 'promote':
      return { voters: [...conf.voters, cc.nodeId].sort(), learners: without(conf.learners) };
    case 'remove':
      return { voters: without(conf.voters), learners: without(conf.learners) };
  }
}
