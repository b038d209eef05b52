// A tiny typed JSON-schema builder: each builder returns the OpenAPI v3 fragment the CRD needs AND carries the
// TypeScript type of the values it admits, so the CRD's openAPIV3Schema and the operator's types come from one
// definition (the kube-rs `derive(CustomResource)` idea, without a code generator).

/** The structural-schema subset Kubernetes accepts in a CRD (plus the x-kubernetes-* extensions we use). */
export interface JsonSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema;
  enum?: readonly string[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
  nullable?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  anyOf?: JsonSchema[];
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-validations'?: CelRule[];
}

/** A CEL rule; `message` is what `kubectl apply` prints, so it must make sense to a user. */
export interface CelRule {
  rule: string;
  message: string;
  /** Set for rules that reference oldSelf (transition rules) when the field may be absent. */
  optionalOldSelf?: boolean;
}

/** A schema for values of type T. `__type` is never set: it only carries T for `Infer`. */
export interface Schema<T> {
  readonly json: JsonSchema;
  readonly __type?: T;
}

/** A property that may be absent (no default): its key becomes optional in the inferred type. */
export interface Optional<T> {
  readonly optional: true;
  readonly schema: Schema<T>;
}

export type Infer<S> = S extends Schema<infer T> ? T : S extends Optional<infer T> ? T : never;

type Shape = Record<string, Schema<unknown> | Optional<unknown>>;
type RequiredKeys<P extends Shape> = { [K in keyof P]: P[K] extends Optional<unknown> ? never : K }[keyof P];
type OptionalKeys<P extends Shape> = { [K in keyof P]: P[K] extends Optional<unknown> ? K : never }[keyof P];
type Flatten<T> = { [K in keyof T]: T[K] };
export type InferObject<P extends Shape> = Flatten<
  { [K in RequiredKeys<P>]: Infer<P[K]> } & { [K in OptionalKeys<P>]?: Infer<P[K]> }
>;

type Common = Pick<JsonSchema, 'description' | 'x-kubernetes-validations'>;

export function optional<T>(schema: Schema<T>): Optional<T> {
  return { optional: true, schema };
}

function isOptional(p: Schema<unknown> | Optional<unknown>): p is Optional<unknown> {
  return 'optional' in p;
}

export function string(
  opts: Common &
    Pick<JsonSchema, 'minLength' | 'maxLength' | 'pattern' | 'format'> & { default?: string } = {},
): Schema<string> {
  return { json: { type: 'string', ...opts } };
}

export function stringEnum<const V extends readonly string[]>(
  values: V,
  opts: Common & { default?: V[number] } = {},
): Schema<V[number]> {
  return { json: { type: 'string', enum: values, ...opts } };
}

export function integer(
  opts: Common & Pick<JsonSchema, 'minimum' | 'maximum' | 'format'> & { default?: number } = {},
): Schema<number> {
  return { json: { type: 'integer', ...opts } };
}

export function boolean(opts: Common & { default?: boolean } = {}): Schema<boolean> {
  return { json: { type: 'boolean', ...opts } };
}

export function array<T>(
  items: Schema<T>,
  opts: Common & Pick<JsonSchema, 'maxItems' | 'x-kubernetes-list-type' | 'x-kubernetes-list-map-keys'> = {},
): Schema<T[]> {
  return { json: { type: 'array', items: items.json, ...opts } };
}

/** An object whose keys are free and whose values all follow `values`. */
export function record<T>(values: Schema<T>, opts: Common = {}): Schema<Record<string, T>> {
  return { json: { type: 'object', additionalProperties: values.json, ...opts } };
}

export function stringMap(opts: Common = {}): Schema<Record<string, string>> {
  return { json: { type: 'object', additionalProperties: { type: 'string' }, ...opts } };
}

export function object<P extends Shape>(
  props: P,
  opts: Common & { default?: Record<string, unknown> } = {},
): Schema<InferObject<P>> {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [key, p] of Object.entries(props)) {
    if (isOptional(p)) {
      properties[key] = p.schema.json;
    } else {
      properties[key] = p.json;
      // A property with a default is filled in by the API server, so it is present on every stored object even
      // though a user may omit it: the type says required, the schema must not.
      if (p.json.default === undefined) required.push(key);
    }
  }
  return { json: { type: 'object', properties, ...(required.length > 0 ? { required } : {}), ...opts } };
}

/** Kubernetes' quantity syntax ("500m", "1Gi", "2", "1e3"), as its own OpenAPI schema spells it. */
const QUANTITY_PATTERN =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

/**
 * A resource quantity ("10Gi", "500m"). Kubernetes' own types accept int or string; we take strings only, so
 * the CEL `quantity()` function can read it without a type switch.
 */
export function quantity(opts: Common & { default?: string } = {}): Schema<string> {
  return {
    json: {
      type: 'string',
      pattern: QUANTITY_PATTERN,
      ...opts,
    },
  };
}

/**
 * A quantity as Kubernetes' own types take it: a string ("500m", "1Gi") or a plain integer (cpu: 2), in the shape
 * Kubernetes' generated CRDs use (int-or-string, the pattern applying to strings). Refused at admission when it is
 * neither, instead of failing the StatefulSet later.
 */
export function intOrQuantity(opts: Common = {}): Schema<string | number> {
  return {
    json: {
      'x-kubernetes-int-or-string': true,
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      pattern: QUANTITY_PATTERN,
      ...opts,
    },
  };
}

/** An RFC 3339 timestamp, as Kubernetes writes metav1.Time. */
export function dateTime(opts: Common = {}): Schema<string> {
  return { json: { type: 'string', format: 'date-time', ...opts } };
}
