// RFC 7386 JSON merge patch from one document to another: changed keys carry their new value, removed keys null,
// nested objects recurse, arrays are replaced whole. Status is written with it (on the /status subresource), so a
// field the new status drops (operation, leader) is really removed, not left behind by a shallow merge.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const ka = Object.keys(ra).filter((k) => ra[k] !== undefined);
  const kb = Object.keys(rb).filter((k) => rb[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual(ra[k], rb[k]));
}

/** The merge patch turning `from` into `to`; undefined when they are equal. Undefined values count as absent. */
export function mergePatch(from: unknown, to: unknown): Json | undefined {
  if (deepEqual(from, to)) return undefined;
  if (!isObject(to)) return toJson(to);
  if (!isObject(from)) return toJson(to);
  const patch: Record<string, Json> = {};
  for (const key of new Set([...Object.keys(from), ...Object.keys(to)])) {
    const a = from[key];
    const b = to[key];
    if (b === undefined) {
      if (a !== undefined) patch[key] = null;
      continue;
    }
    const p = mergePatch(a, b);
    if (p !== undefined) patch[key] = p;
  }
  return Object.keys(patch).length === 0 ? undefined : patch;
}

/** Applies a merge patch (for tests and for keeping a local copy in step with what was written). */
export function applyMergePatch(target: unknown, patch: Json): unknown {
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

function toJson(v: unknown): Json {
  if (v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(toJson);
  if (isObject(v)) {
    const out: Record<string, Json> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = toJson(x);
    return out;
  }
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null) return v;
  throw new Error(`mergePatch: cannot encode a ${typeof v}`);
}
