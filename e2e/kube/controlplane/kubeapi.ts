// The few API calls kube:up makes (health, server-side apply, list nodes), over node:https with the admin client
// cert. No kubectl dependency: kube:up must work where only the built binaries and Node exist.
import https from 'node:https';

export interface TlsCredentials {
  readonly ca: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** Skip server verification: only for loopback health endpoints that serve an in-memory self-signed cert. */
  readonly insecure?: boolean;
}

export interface HttpResult {
  readonly status: number;
  readonly body: string;
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** One HTTPS request with a hard deadline and a response-size bound. Rejects on transport errors only. */
export function httpsRequest(
  url: string,
  tls: TlsCredentials,
  opts: { method?: string; body?: string; contentType?: string; timeoutMs: number },
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: opts.method ?? 'GET',
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        rejectUnauthorized: tls.insecure !== true,
        timeout: opts.timeoutMs,
        headers: {
          accept: 'application/json',
          ...(opts.body === undefined
            ? {}
            : {
                'content-type': opts.contentType ?? 'application/json',
                'content-length': Buffer.byteLength(opts.body),
              }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY_BYTES)
            req.destroy(new Error(`${url}: response larger than ${MAX_BODY_BYTES} bytes`));
          else chunks.push(c);
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer within ${opts.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly [k: string]: unknown };
  readonly [k: string]: unknown;
}

/** Kinds kube:up applies, with their resource names (no discovery round-trips needed for a fixed set). */
const RESOURCES: Record<string, { plural: string; namespaced: boolean }> = {
  Service: { plural: 'services', namespaced: true },
  EndpointSlice: { plural: 'endpointslices', namespaced: true },
  StorageClass: { plural: 'storageclasses', namespaced: false },
  ClusterRole: { plural: 'clusterroles', namespaced: false },
  ClusterRoleBinding: { plural: 'clusterrolebindings', namespaced: false },
  Namespace: { plural: 'namespaces', namespaced: false },
};

/** The REST path of one object, e.g. /apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices/kube-dns. */
export function objectPath(obj: KubeObject): string {
  const r = RESOURCES[obj.kind];
  if (r === undefined) throw new Error(`objectPath: kind ${obj.kind} is not in the known set`);
  const group = obj.apiVersion.includes('/') ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`;
  const ns = obj.metadata.namespace;
  if (r.namespaced && ns === undefined) throw new Error(`${obj.kind}/${obj.metadata.name} needs a namespace`);
  if (!r.namespaced && ns !== undefined)
    throw new Error(`${obj.kind}/${obj.metadata.name} is cluster-scoped`);
  const nsPart = r.namespaced ? `/namespaces/${encodeURIComponent(ns as string)}` : '';
  return `${group}${nsPart}/${r.plural}/${encodeURIComponent(obj.metadata.name)}`;
}

export class KubeApi {
  constructor(
    private readonly server: string,
    private readonly tls: TlsCredentials,
    private readonly timeoutMs: number,
  ) {}

  async get(path: string): Promise<HttpResult> {
    return await httpsRequest(this.server + path, this.tls, { timeoutMs: this.timeoutMs });
  }

  /** Server-side apply under one field manager, taking ownership of conflicting fields (we are the author). */
  async apply(obj: KubeObject, fieldManager: string): Promise<void> {
    const path = `${objectPath(obj)}?fieldManager=${encodeURIComponent(fieldManager)}&force=true`;
    const res = await httpsRequest(this.server + path, this.tls, {
      method: 'PATCH',
      body: JSON.stringify(obj),
      contentType: 'application/apply-patch+yaml',
      timeoutMs: this.timeoutMs,
    });
    if (res.status < 200 || res.status >= 300) {
      throw new Error(
        `apply ${obj.kind}/${obj.metadata.name}: HTTP ${res.status}: ${res.body.slice(0, 500)}`,
      );
    }
  }
}
