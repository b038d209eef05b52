// A container's environment: image env, then envFrom, then env (later wins), with $(VAR) references expanded.
import type { ConfigMap, Container, Pod, Secret } from './kube-types.js';
import { resolveFieldRef, resolveResourceFieldRef, type PodRuntimeFacts } from './field-refs.js';

export interface EnvSources {
  configMaps: ReadonlyMap<string, ConfigMap | undefined>;
  secrets: ReadonlyMap<string, Secret | undefined>;
  /** Injected first, like the kubelet's service environment (KUBERNETES_SERVICE_HOST/PORT). */
  serviceEnv: Record<string, string>;
}

export type EnvResult =
  | { ok: true; env: Record<string, string> }
  | { ok: false; reason: 'CreateContainerConfigError'; message: string };

/** `$(NAME)` expands to an earlier variable; `$$(NAME)` is a literal `$(NAME)`; unknown references stay as written. */
export function expandVars(s: string, env: Readonly<Record<string, string>>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole, name: string | undefined) => {
    if (whole === '$$') return '$';
    return name !== undefined && Object.hasOwn(env, name) ? (env[name] as string) : whole;
  });
}

function decode(b64: string): string {
  return Buffer.from(b64, 'base64').toString('utf8');
}

/** The names of ConfigMaps and Secrets the container's env refers to, so the caller can fetch them first. */
export function envReferences(c: Container): { configMaps: string[]; secrets: string[] } {
  const cms = new Set<string>();
  const secs = new Set<string>();
  for (const f of c.envFrom ?? []) {
    if (f.configMapRef) cms.add(f.configMapRef.name);
    if (f.secretRef) secs.add(f.secretRef.name);
  }
  for (const e of c.env ?? []) {
    if (e.valueFrom?.configMapKeyRef) cms.add(e.valueFrom.configMapKeyRef.name);
    if (e.valueFrom?.secretKeyRef) secs.add(e.valueFrom.secretKeyRef.name);
  }
  return { configMaps: [...cms], secrets: [...secs] };
}

export function resolveEnv(
  pod: Pod,
  c: Container,
  facts: PodRuntimeFacts,
  imageEnv: Record<string, string>,
  src: EnvSources,
): EnvResult {
  const env: Record<string, string> = { ...imageEnv, ...src.serviceEnv };
  const fail = (message: string): EnvResult => ({ ok: false, reason: 'CreateContainerConfigError', message });
  for (const f of c.envFrom ?? []) {
    const prefix = f.prefix ?? '';
    if (f.configMapRef) {
      const cm = src.configMaps.get(f.configMapRef.name);
      if (cm === undefined) {
        if (f.configMapRef.optional === true) continue;
        return fail(`configmap "${f.configMapRef.name}" not found`);
      }
      for (const [k, v] of Object.entries(cm.data ?? {})) env[prefix + k] = v;
    }
    if (f.secretRef) {
      const s = src.secrets.get(f.secretRef.name);
      if (s === undefined) {
        if (f.secretRef.optional === true) continue;
        return fail(`secret "${f.secretRef.name}" not found`);
      }
      for (const [k, v] of Object.entries(s.data ?? {})) env[prefix + k] = decode(v);
    }
  }
  for (const e of c.env ?? []) {
    if (e.valueFrom === undefined) {
      env[e.name] = expandVars(e.value ?? '', env);
      continue;
    }
    const vf = e.valueFrom;
    try {
      if (vf.fieldRef) env[e.name] = resolveFieldRef(pod, facts, vf.fieldRef);
      else if (vf.resourceFieldRef)
        env[e.name] = resolveResourceFieldRef(pod, facts, c.name, vf.resourceFieldRef);
      else if (vf.configMapKeyRef) {
        const ref = vf.configMapKeyRef;
        const v = src.configMaps.get(ref.name)?.data?.[ref.key];
        if (v !== undefined) env[e.name] = v;
        else if (ref.optional !== true)
          return fail(`couldn't find key ${ref.key} in ConfigMap ${pod.metadata.namespace}/${ref.name}`);
      } else if (vf.secretKeyRef) {
        const ref = vf.secretKeyRef;
        const v = src.secrets.get(ref.name)?.data?.[ref.key];
        if (v !== undefined) env[e.name] = decode(v);
        else if (ref.optional !== true)
          return fail(`couldn't find key ${ref.key} in Secret ${pod.metadata.namespace}/${ref.name}`);
      }
    } catch (err) {
      return fail(`env ${e.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { ok: true, env };
}
