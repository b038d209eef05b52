// The Kubernetes core types the spec passes through to the member pods, checked at admission. They were once taken
// whole (preserve-unknown-fields) and left to the StatefulSet's own validation, which only runs when the operator
// applies it: a bad value was accepted, then every apply failed, visible only as Events. The shapes here are the
// fields of Kubernetes' own schemas that users set (types, enums, quantities); unknown fields are refused.
import type {
  V1Affinity,
  V1ResourceRequirements,
  V1Toleration,
  V1TopologySpreadConstraint,
} from '@kubernetes/client-node';
import {
  array,
  integer,
  intOrQuantity,
  object,
  optional,
  record,
  string,
  stringEnum,
  stringMap,
  type Schema,
} from './schema.js';

/** CPU and memory of each member: limits and requests by resource name, each a quantity. */
export function resourceRequirements(opts: { description?: string } = {}): Schema<V1ResourceRequirements> {
  const schema = object(
    {
      limits: optional(record(intOrQuantity(), { description: 'Most of each resource a member may use.' })),
      requests: optional(
        record(intOrQuantity(), { description: 'What a member is guaranteed of each resource.' }),
      ),
      claims: optional(
        array(object({ name: string({ minLength: 1 }), request: optional(string()) }), {
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
        }),
      ),
    },
    opts,
  );
  return schema as Schema<V1ResourceRequirements>;
}

/** One toleration, as a pod spec takes it. */
export function toleration(): Schema<V1Toleration> {
  const schema = object({
    key: optional(string({ description: 'Taint key; empty with operator Exists matches every taint.' })),
    operator: optional(stringEnum(['Exists', 'Equal'] as const)),
    value: optional(string()),
    effect: optional(stringEnum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const)),
    tolerationSeconds: optional(integer({ format: 'int64' })),
  });
  return schema;
}

/** A label selector: matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist). */
function labelSelector() {
  return object({
    matchLabels: optional(stringMap()),
    matchExpressions: optional(
      array(
        object({
          key: string({ minLength: 1 }),
          operator: stringEnum(['In', 'NotIn', 'Exists', 'DoesNotExist'] as const),
          values: optional(array(string())),
        }),
      ),
    ),
  });
}

/** One node selector term: requirements on node labels (matchExpressions) or fields (matchFields). */
function nodeSelectorTerm() {
  const requirement = object({
    key: string({ minLength: 1 }),
    operator: stringEnum(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'] as const),
    values: optional(array(string())),
  });
  return object({
    matchExpressions: optional(array(requirement)),
    matchFields: optional(array(requirement)),
  });
}

/** Which pods a pod (anti-)affinity term is about, and over which topology. */
function podAffinityTerm() {
  return object({
    labelSelector: optional(labelSelector()),
    namespaceSelector: optional(labelSelector()),
    namespaces: optional(array(string())),
    topologyKey: string({ minLength: 1 }),
    matchLabelKeys: optional(array(string(), { 'x-kubernetes-list-type': 'atomic' })),
    mismatchLabelKeys: optional(array(string(), { 'x-kubernetes-list-type': 'atomic' })),
  });
}

function podAffinity() {
  return object({
    requiredDuringSchedulingIgnoredDuringExecution: optional(array(podAffinityTerm())),
    preferredDuringSchedulingIgnoredDuringExecution: optional(
      array(object({ weight: integer({ minimum: 1, maximum: 100 }), podAffinityTerm: podAffinityTerm() })),
    ),
  });
}

/** Node affinity, pod affinity and pod anti-affinity of the member pods. */
export function affinity(opts: { description?: string } = {}): Schema<V1Affinity> {
  const schema = object(
    {
      nodeAffinity: optional(
        object({
          requiredDuringSchedulingIgnoredDuringExecution: optional(
            object({ nodeSelectorTerms: array(nodeSelectorTerm()) }),
          ),
          preferredDuringSchedulingIgnoredDuringExecution: optional(
            array(object({ weight: integer({ minimum: 1, maximum: 100 }), preference: nodeSelectorTerm() })),
          ),
        }),
      ),
      podAffinity: optional(podAffinity()),
      podAntiAffinity: optional(podAffinity()),
    },
    opts,
  );
  return schema;
}

/** One topology spread constraint, as a pod spec takes it. */
export function topologySpreadConstraint(): Schema<V1TopologySpreadConstraint> {
  const schema = object({
    maxSkew: integer({ minimum: 1 }),
    topologyKey: string({ minLength: 1 }),
    whenUnsatisfiable: stringEnum(['DoNotSchedule', 'ScheduleAnyway'] as const),
    labelSelector: optional(labelSelector()),
    minDomains: optional(integer({ minimum: 1 })),
    matchLabelKeys: optional(array(string(), { 'x-kubernetes-list-type': 'atomic' })),
    nodeAffinityPolicy: optional(stringEnum(['Honor', 'Ignore'] as const)),
    nodeTaintsPolicy: optional(stringEnum(['Honor', 'Ignore'] as const)),
  });
  return schema;
}
