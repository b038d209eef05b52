// Writes one strict JSON schema per Kubernetes kind into OUT_DIR, named for kubeconform's
// -schema-location OUT_DIR/{{ .ResourceKind }}_{{ .Group }}_{{ .ResourceAPIVersion }}.json:
//   - the built-in kinds from a Kubernetes release's OpenAPI v2 document (api/openapi-spec/swagger.json of the
//     k8s.io/kubernetes module `npm run kube:build` downloads), so no schema is fetched from the network;
//   - every version of the CRDs given, from their openAPIV3Schema, so example RaftClusters are checked against
//     the very CRD users install.
// Strict means objects with listed properties reject unknown fields, as `kubeconform -strict` expects.
// Usage: node kube-schemas.mjs OUT_DIR SWAGGER_JSON CRD_YAML...
import console from 'node:console';
import process from 'node:process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';

const [outDir, swaggerPath, ...crdPaths] = process.argv.slice(2);
if (!outDir || !swaggerPath) {
  console.error('usage: node kube-schemas.mjs OUT_DIR SWAGGER_JSON CRD_YAML...');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });

function fileName(kind, group, version) {
  // kubeconform's Group is the part of apiVersion before "/", or the whole apiVersion ("v1") for the core group.
  return `${kind.toLowerCase()}_${group === '' ? version : group}_${version}.json`;
}

/** Adds additionalProperties: false where an object lists its properties and says nothing else. */
function strict(schema) {
  if (Array.isArray(schema)) return schema.map(strict);
  if (schema === null || typeof schema !== 'object') return schema;
  const out = {};
  for (const [k, v] of Object.entries(schema)) {
    out[k] = k === 'properties' || k === 'definitions' ? mapValues(v, strict) : strict(v);
  }
  const open = schema['x-kubernetes-preserve-unknown-fields'] === true;
  if (schema.properties && !('additionalProperties' in schema) && !open) out.additionalProperties = false;
  return out;
}

function mapValues(obj, f) {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, f(v)]));
}

/** Kubernetes' int-or-string and quantity formats are not plain JSON-schema types; relax them as kubeconform's own schemas do. */
function relaxFormats(schema) {
  if (Array.isArray(schema)) return schema.map(relaxFormats);
  if (schema === null || typeof schema !== 'object') return schema;
  if (schema.format === 'int-or-string' || schema['x-kubernetes-int-or-string'] === true) {
    const { type: _t, format: _f, ...rest } = schema;
    return { ...rest, oneOf: [{ type: 'string' }, { type: 'integer' }] };
  }
  const out = mapValues(schema, relaxFormats);
  // Nullable fields in OpenAPI v2 are not marked; Kubernetes' JSON accepts null for optional fields.
  if (typeof out.type === 'string' && out.type !== 'null' && !schema.properties)
    out.type = [out.type, 'null'];
  return out;
}

function refsOf(schema, into) {
  if (Array.isArray(schema)) for (const s of schema) refsOf(s, into);
  else if (schema !== null && typeof schema === 'object') {
    for (const [k, v] of Object.entries(schema)) {
      if (k === '$ref' && typeof v === 'string') into.add(v.replace('#/definitions/', ''));
      else refsOf(v, into);
    }
  }
}

let written = 0;

// Built-in kinds.
const swagger = JSON.parse(readFileSync(swaggerPath, 'utf8'));
const definitions = swagger.definitions;
for (const [name, def] of Object.entries(definitions)) {
  const gvks = def['x-kubernetes-group-version-kind'];
  if (!gvks || !def.properties?.kind) continue;
  // Only the definitions this kind refers to, transitively.
  const needed = new Set([name]);
  const queue = [name];
  while (queue.length > 0) {
    const found = new Set();
    refsOf(definitions[queue.pop()], found);
    for (const r of found) {
      if (!needed.has(r)) {
        needed.add(r);
        queue.push(r);
      }
    }
  }
  const defs = {};
  for (const n of needed) defs[n] = definitions[n];
  const schema = {
    $schema: 'http://json-schema.org/draft-04/schema#',
    ...relaxFormats(strict({ ...def, definitions: defs })),
  };
  for (const gvk of gvks) {
    writeFileSync(join(outDir, fileName(gvk.kind, gvk.group, gvk.version)), JSON.stringify(schema));
    written++;
  }
}

// CRDs.
for (const path of crdPaths) {
  for (const doc of yaml.loadAll(readFileSync(path, 'utf8'))) {
    if (doc?.kind !== 'CustomResourceDefinition') continue;
    for (const v of doc.spec.versions) {
      const root = v.schema.openAPIV3Schema;
      const schema = strict({
        ...root,
        // apiVersion/kind/metadata as the API server sees them (its ObjectMeta is not in the CRD).
        properties: {
          ...root.properties,
          metadata: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        },
      });
      writeFileSync(
        join(outDir, fileName(doc.spec.names.kind, doc.spec.group, v.name)),
        JSON.stringify(schema),
      );
      written++;
    }
  }
}

console.log(`kube-schemas: wrote ${written} schemas to ${outDir}`);
