// Names of the owned objects and the members' DNS addresses: shared by the child builders and the planner so a
// member's advertised address and the address the operator adds it under can never disagree.

import { SHARD_PLACEHOLDER } from '../../../node/shared/config/shard-endpoints.js';

export const PEER_PORT = 2380;
export const CLIENT_PORT = 2379;
export const HTTP_PORT = 8080;

/**
 * StatefulSet of one shard. Shard 0 gets the bare cluster name, so a single-shard cluster (the common case) has
 * members demo-0, demo-1, ... as the docs show; further shards get `-s<k>`.
 */
export function statefulSetName(cluster: string, shard: number): string {
  return shard === 0 ? cluster : `${cluster}-s${shard}`;
}

export function podName(cluster: string, shard: number, ordinal: number): string {
  return `${statefulSetName(cluster, shard)}-${ordinal}`;
}

/** The ordinal of a member pod of this shard, or undefined if the name is not one of ours. */
export function ordinalOf(cluster: string, shard: number, name: string): number | undefined {
  const prefix = `${statefulSetName(cluster, shard)}-`;
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  return /^(0|[1-9][0-9]{0,3})$/.test(rest) ? Number(rest) : undefined;
}

export function peerServiceName(cluster: string): string {
  return `${cluster}-peer`;
}

export function clientServiceName(cluster: string): string {
  return cluster;
}

/** One shard's client Service: any member of that shard (members route keys of other shards; debugging). */
export function shardServiceName(cluster: string, shard: number): string {
  return `${cluster}-shard-${shard}`;
}

/**
 * The members' --shard-endpoints: the per-shard Services, as a template, so shards a later reshard creates are
 * reachable without changing (or restarting) any member.
 */
export function shardEndpointsTemplate(cluster: string, namespace: string): string {
  return `${cluster}-shard-${SHARD_PLACEHOLDER}.${namespace}.svc.cluster.local:${CLIENT_PORT}`;
}

export function podHost(cluster: string, namespace: string, pod: string): string {
  return `${pod}.${peerServiceName(cluster)}.${namespace}.svc.cluster.local`;
}

export function peerAddress(cluster: string, namespace: string, pod: string): string {
  return `${podHost(cluster, namespace, pod)}:${PEER_PORT}`;
}

export function clientAddress(cluster: string, namespace: string, pod: string): string {
  return `${podHost(cluster, namespace, pod)}:${CLIENT_PORT}`;
}

/** Labels every member pod carries; the selector in status.selector (for /scale) is built from the first two. */
export function selectorLabels(cluster: string): Record<string, string> {
  return { 'app.kubernetes.io/name': 'raftstore', 'app.kubernetes.io/instance': cluster };
}

export function shardLabels(cluster: string, shard: number): Record<string, string> {
  return { ...selectorLabels(cluster), 'raftstore.dev/shard': String(shard) };
}

export function labelSelectorString(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** The volumeClaimTemplate's name; the StatefulSet controller names each claim `<template>-<pod>`. */
export const DATA_VOLUME = 'data';

export function pvcName(cluster: string, shard: number, ordinal: number): string {
  return `${DATA_VOLUME}-${podName(cluster, shard, ordinal)}`;
}
