// A pod's volumes as host directories under the agent's state dir, which the launcher bind-mounts at each
// mountPath. PVCs resolve to their bound host-path PV (data outlives the pod); the service-account token comes from
// the TokenRequest API, bound to the pod, so in-cluster clients authenticate as the pod's service account.
import { chmod, mkdir, readdir, realpath, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { KubeHttp } from './kube-http.js';
import { isNotFound } from './kube-http.js';
import type {
  ConfigMap,
  DownwardAPIVolumeFile,
  KeyToPath,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  ProjectedSource,
  Secret,
  Volume,
} from './kube-types.js';
import { resolveFieldRef, resolveResourceFieldRef, type PodRuntimeFacts } from './field-refs.js';

/** A volume we cannot set up yet (PVC not bound, ConfigMap missing): the container waits in ContainerCreating. */
export class VolumeNotReady extends Error {
  override name = 'VolumeNotReady';
}

export interface MaterialisedVolumes {
  dirs: Map<string, string>;
  /** Earliest token expiry: re-materialise before then (the kubelet refreshes at 80 % of the TTL). */
  refreshAtMs: number | undefined;
}

interface FileContent {
  path: string;
  data: Buffer;
  mode?: number;
}

function safeJoin(root: string, rel: string): string {
  const full = path.resolve(root, rel);
  if (full !== root && !full.startsWith(root + path.sep))
    throw new Error(`volume path ${rel} escapes the volume`);
  return full;
}

async function writeFiles(dir: string, files: readonly FileContent[], defaultMode: number): Promise<void> {
  // The running container has this directory bind-mounted, so keep its inode: replace files inside it (write then
  // rename, so readers never see half a file) and remove entries that are no longer wanted.
  await mkdir(dir, { recursive: true });
  const wanted = new Set(files.map((f) => f.path.split('/')[0] ?? f.path));
  for (const entry of await readdir(dir))
    if (!wanted.has(entry)) await rm(path.join(dir, entry), { recursive: true, force: true });
  for (const f of files) {
    const full = safeJoin(dir, f.path);
    await mkdir(path.dirname(full), { recursive: true });
    const tmp = `${full}.rsk-tmp`;
    await writeFile(tmp, f.data);
    await chmod(tmp, f.mode ?? defaultMode);
    await rename(tmp, full);
  }
}

function keyFiles(
  data: Record<string, Buffer>,
  items: readonly KeyToPath[] | undefined,
  what: string,
): FileContent[] {
  if (items === undefined || items.length === 0)
    return Object.entries(data).map(([k, v]) => ({ path: k, data: v }));
  return items.map((it) => {
    const v = data[it.key];
    if (v === undefined) throw new VolumeNotReady(`${what}: key ${it.key} not found`);
    return { path: it.path, data: v, ...(it.mode === undefined ? {} : { mode: it.mode }) };
  });
}

export interface VolumeContext {
  api: KubeHttp;
  pod: Pod;
  facts: PodRuntimeFacts;
  podDir: string;
  nowMs: number;
}

export async function getOptional<T>(api: KubeHttp, p: string): Promise<T | undefined> {
  try {
    return await api.get<T>(p);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

function cmData(cm: ConfigMap): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(cm.data ?? {})) out[k] = Buffer.from(v, 'utf8');
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) out[k] = Buffer.from(v, 'base64');
  return out;
}
function secretData(s: Secret): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(s.data ?? {})) out[k] = Buffer.from(v, 'base64');
  return out;
}

function downwardFiles(ctx: VolumeContext, items: readonly DownwardAPIVolumeFile[]): FileContent[] {
  const first = ctx.pod.spec.containers[0]?.name ?? '';
  return items.map((it) => {
    const value = it.fieldRef
      ? resolveFieldRef(ctx.pod, ctx.facts, it.fieldRef)
      : it.resourceFieldRef
        ? resolveResourceFieldRef(ctx.pod, ctx.facts, first, it.resourceFieldRef)
        : '';
    return {
      path: it.path,
      data: Buffer.from(value, 'utf8'),
      ...(it.mode === undefined ? {} : { mode: it.mode }),
    };
  });
}

async function projectedFiles(
  ctx: VolumeContext,
  sources: readonly ProjectedSource[],
  refresh: { atMs: number | undefined },
): Promise<FileContent[]> {
  const ns = ctx.pod.metadata.namespace ?? 'default';
  const files: FileContent[] = [];
  for (const src of sources) {
    if (src.serviceAccountToken) {
      const sa = ctx.pod.spec.serviceAccountName ?? 'default';
      const expirationSeconds = src.serviceAccountToken.expirationSeconds ?? 3607;
      const tr = await ctx.api.request<{ status: { token: string; expirationTimestamp: string } }>(
        'POST',
        `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`,
        {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: {
            audiences:
              src.serviceAccountToken.audience === undefined ? [] : [src.serviceAccountToken.audience],
            expirationSeconds,
            boundObjectRef: {
              apiVersion: 'v1',
              kind: 'Pod',
              name: ctx.pod.metadata.name,
              uid: ctx.pod.metadata.uid,
            },
          },
        },
      );
      const exp = Date.parse(tr.status.expirationTimestamp);
      const at = ctx.nowMs + 0.8 * (Number.isFinite(exp) ? exp - ctx.nowMs : expirationSeconds * 1000);
      refresh.atMs = refresh.atMs === undefined ? at : Math.min(refresh.atMs, at);
      files.push({ path: src.serviceAccountToken.path, data: Buffer.from(tr.status.token, 'utf8') });
    } else if (src.configMap) {
      const cm = await getOptional<ConfigMap>(
        ctx.api,
        `/api/v1/namespaces/${ns}/configmaps/${src.configMap.name}`,
      );
      if (cm === undefined) {
        if (src.configMap.optional === true) continue;
        throw new VolumeNotReady(`configmap "${src.configMap.name}" not found`);
      }
      files.push(...keyFiles(cmData(cm), src.configMap.items, `configmap ${src.configMap.name}`));
    } else if (src.secret) {
      const s = await getOptional<Secret>(ctx.api, `/api/v1/namespaces/${ns}/secrets/${src.secret.name}`);
      if (s === undefined) {
        if (src.secret.optional === true) continue;
        throw new VolumeNotReady(`secret "${src.secret.name}" not found`);
      }
      files.push(...keyFiles(secretData(s), src.secret.items, `secret ${src.secret.name}`));
    } else if (src.downwardAPI) {
      files.push(...downwardFiles(ctx, src.downwardAPI.items ?? []));
    }
  }
  return files;
}

async function pvcPath(ctx: VolumeContext, claimName: string): Promise<string> {
  const ns = ctx.pod.metadata.namespace ?? 'default';
  const pvc = await getOptional<PersistentVolumeClaim>(
    ctx.api,
    `/api/v1/namespaces/${ns}/persistentvolumeclaims/${claimName}`,
  );
  if (pvc === undefined) throw new VolumeNotReady(`persistentvolumeclaim "${claimName}" not found`);
  if (pvc.status?.phase !== 'Bound' || pvc.spec.volumeName === undefined)
    throw new VolumeNotReady(`persistentvolumeclaim "${claimName}" is not bound`);
  const pv = await getOptional<PersistentVolume>(ctx.api, `/api/v1/persistentvolumes/${pvc.spec.volumeName}`);
  // hostPath (the provisioner's) or local (pinned to a node by its nodeAffinity, as on-premises local disks are).
  const dir = pv?.spec.hostPath?.path ?? pv?.spec.local?.path;
  if (dir === undefined)
    throw new VolumeNotReady(
      `persistentvolume "${pvc.spec.volumeName}" is neither a hostPath nor a local volume`,
    );
  return await hostDirectory(dir);
}

/**
 * A host directory as the launcher must bind it: created, with symlinks resolved on the host. The launcher mounts
 * inside the pod's mount namespace, where an earlier mount (an emptyDir at /tmp) can hide a symlink on the path —
 * the hostPath provisioner's /tmp/hostpath_pv is one.
 */
export async function hostDirectory(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return await realpath(dir);
}

/** Sets up every volume of the pod; returns volume name → host directory. */
export async function materialiseVolumes(ctx: VolumeContext): Promise<MaterialisedVolumes> {
  const ns = ctx.pod.metadata.namespace ?? 'default';
  const dirs = new Map<string, string>();
  const refresh = { atMs: undefined as number | undefined };
  for (const v of ctx.pod.spec.volumes ?? []) dirs.set(v.name, await materialiseOne(ctx, ns, v, refresh));
  return { dirs, refreshAtMs: refresh.atMs };
}

async function materialiseOne(
  ctx: VolumeContext,
  ns: string,
  v: Volume,
  refresh: { atMs: number | undefined },
): Promise<string> {
  const dir = path.join(ctx.podDir, 'volumes', v.name.replace(/[^A-Za-z0-9_.-]/g, '_'));
  if (v.emptyDir) {
    await mkdir(dir, { recursive: true });
    return dir;
  }
  if (v.hostPath) return await hostDirectory(v.hostPath.path);
  if (v.persistentVolumeClaim) return await pvcPath(ctx, v.persistentVolumeClaim.claimName);
  if (v.configMap) {
    const cm = await getOptional<ConfigMap>(
      ctx.api,
      `/api/v1/namespaces/${ns}/configmaps/${v.configMap.name}`,
    );
    if (cm === undefined && v.configMap.optional !== true)
      throw new VolumeNotReady(`configmap "${v.configMap.name}" not found`);
    await writeFiles(
      dir,
      cm === undefined ? [] : keyFiles(cmData(cm), v.configMap.items, `configmap ${v.configMap.name}`),
      v.configMap.defaultMode ?? 0o644,
    );
    return dir;
  }
  if (v.secret) {
    const s = await getOptional<Secret>(ctx.api, `/api/v1/namespaces/${ns}/secrets/${v.secret.secretName}`);
    if (s === undefined && v.secret.optional !== true)
      throw new VolumeNotReady(`secret "${v.secret.secretName}" not found`);
    await writeFiles(
      dir,
      s === undefined ? [] : keyFiles(secretData(s), v.secret.items, `secret ${v.secret.secretName}`),
      v.secret.defaultMode ?? 0o644,
    );
    return dir;
  }
  if (v.downwardAPI) {
    await writeFiles(dir, downwardFiles(ctx, v.downwardAPI.items ?? []), v.downwardAPI.defaultMode ?? 0o644);
    return dir;
  }
  if (v.projected) {
    await writeFiles(
      dir,
      await projectedFiles(ctx, v.projected.sources ?? [], refresh),
      v.projected.defaultMode ?? 0o644,
    );
    return dir;
  }
  throw new VolumeNotReady(`volume ${v.name}: unsupported volume type`);
}
