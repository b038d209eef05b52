// List-then-watch cache of one resource (a minimal client-go reflector): re-lists after any watch failure, with a
// bounded back-off, and calls onChange for every add, update and delete.
import type { KubeHttp, WatchEvent } from './kube-http.js';
import { isGone } from './kube-http.js';
import type { List, ObjectMeta } from './kube-types.js';

export interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export type ChangeKind = 'upsert' | 'delete';

const RELIST_BACKOFF_MIN_MS = 250;
const RELIST_BACKOFF_MAX_MS = 10_000;

export function objectKey(m: ObjectMeta): string {
  return m.namespace === undefined ? m.name : `${m.namespace}/${m.name}`;
}

export class Informer<T extends { metadata: ObjectMeta }> {
  private readonly items = new Map<string, T>();
  private readonly abort = new AbortController();
  private synced = false;
  private loopDone: Promise<void> | undefined;

  constructor(
    private readonly client: KubeHttp,
    /** Collection path with any selector query, e.g. /api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1 */
    private readonly path: string,
    private readonly log: Logger,
    private readonly onChange: (kind: ChangeKind, key: string, obj: T) => void,
  ) {}

  start(): void {
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loopDone;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  list(): T[] {
    return [...this.items.values()];
  }

  private async loop(): Promise<void> {
    let backoffMs = RELIST_BACKOFF_MIN_MS;
    while (!this.abort.signal.aborted) {
      try {
        let rv = await this.relist();
        this.synced = true;
        backoffMs = RELIST_BACKOFF_MIN_MS;
        // Watch again from the last seen version until the server says the version is too old (410).
        while (!this.abort.signal.aborted) {
          await this.client.watch<T>(this.path, rv, (ev) => (rv = this.apply(ev) ?? rv), this.abort.signal);
        }
      } catch (err) {
        if (this.abort.signal.aborted) break;
        if (!isGone(err))
          this.log.warn({ path: this.path, err: String(err) }, 'list/watch failed; re-listing');
        await sleep(backoffMs, this.abort.signal);
        backoffMs = Math.min(backoffMs * 2, RELIST_BACKOFF_MAX_MS);
      }
    }
  }

  private async relist(): Promise<string> {
    const list = await this.client.get<List<T>>(this.path);
    const seen = new Set<string>();
    for (const item of list.items) {
      const key = objectKey(item.metadata);
      seen.add(key);
      if (this.items.get(key)?.metadata.resourceVersion !== item.metadata.resourceVersion) {
        this.items.set(key, item);
        this.onChange('upsert', key, item);
      }
    }
    for (const [key, item] of this.items) {
      if (!seen.has(key)) {
        this.items.delete(key);
        this.onChange('delete', key, item);
      }
    }
    return list.metadata.resourceVersion;
  }

  private apply(ev: WatchEvent<T>): string | undefined {
    const rv = ev.object.metadata.resourceVersion;
    if (ev.type === 'BOOKMARK') return rv;
    const key = objectKey(ev.object.metadata);
    if (ev.type === 'DELETED') {
      this.items.delete(key);
      this.onChange('delete', key, ev.object);
    } else {
      this.items.set(key, ev.object);
      this.onChange('upsert', key, ev.object);
    }
    return rv;
  }
}

export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  await new Promise<void>((resolve) => {
    if (signal?.aborted === true) {
      resolve();
      return;
    }
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      resolve();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
