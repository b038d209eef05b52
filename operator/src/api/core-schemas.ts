// The Kubernetes core types the spec passes through to the member pods, checked at admission. They were once taken
// whole (preserve-unknown-fields) and left to the StatefulSet's own validation, which only runs when the operator
// applies it: a bad value was accepted, then every apply failed, visible only as Events. The shapes here are the
// fields of Kubernetes' own schemas that users set (types, enums, quantities); unknown fields are refused.
import type { V1ResourceRequirements, V1Toleration } from '@kubernetes/client-node';
import {
  array,
  integer,
  intOrQuantity,
  object,
  optional,
  record,
  string,
  stringEnum,
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
