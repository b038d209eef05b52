// kube-proxy for the simulated nodes (they share one host, so one proxy serves all): watches Services and
// EndpointSlices and keeps the RSK-* nat chains in step (rules from service-rules.ts). Pods route everything via
// the bridge address, so DNAT in PREROUTING sees their traffic; OUTPUT covers processes on the host.
import { run } from './exec.js';
import { Informer, type Logger } from './informer.js';
import type { KubeHttp } from './kube-http.js';
import type { EndpointSlice, Service } from './kube-types.js';
import {
  CHAIN_NO_ENDPOINTS,
  CHAIN_POSTROUTING,
  CHAIN_SERVICES,
  renderFilterRules,
  renderNatRules,
  serviceRules,
} from './service-rules.js';

const DEBOUNCE_MS = 100;
/** Entry jumps from the built-in chains into ours: [table, chain, rule...]. */
const JUMPS: readonly (readonly [string, string, ...string[]])[] = [
  ['nat', 'PREROUTING', '-j', CHAIN_SERVICES],
  ['nat', 'OUTPUT', '-j', CHAIN_SERVICES],
  ['nat', 'POSTROUTING', '-j', CHAIN_POSTROUTING],
  // Pods' traffic is routed through the host (FORWARD); the host's own goes through OUTPUT.
  ['filter', 'FORWARD', '-j', CHAIN_NO_ENDPOINTS],
  ['filter', 'OUTPUT', '-j', CHAIN_NO_ENDPOINTS],
];

export class ServiceProxy {
  private readonly services: Informer<Service>;
  private readonly slices: Informer<EndpointSlice>;
  private timer: NodeJS.Timeout | undefined;
  private syncing = false;
  private again = false;
  private lastApplied = '';
  private closed = false;
  syncCount = 0;

  constructor(
    api: KubeHttp,
    private readonly log: Logger,
  ) {
    const changed = (): void => this.schedule();
    this.services = new Informer<Service>(api, '/api/v1/services', log, changed);
    this.slices = new Informer<EndpointSlice>(api, '/apis/discovery.k8s.io/v1/endpointslices', log, changed);
  }

  async start(): Promise<void> {
    await ensureJumps();
    this.services.start();
    this.slices.start();
  }

  private schedule(): void {
    if (this.closed || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.sync();
    }, DEBOUNCE_MS);
  }

  private async sync(): Promise<void> {
    if (!this.services.hasSynced() || !this.slices.hasSynced()) {
      // Rules from half a picture would drop live Services; wait for both lists.
      this.schedule();
      return;
    }
    if (this.syncing) {
      this.again = true;
      return;
    }
    this.syncing = true;
    try {
      const rules = serviceRules(this.services.list(), this.slices.list());
      const existing = await ownChains();
      // One iptables-restore input, two tables: each table's part is committed atomically.
      const text = renderNatRules(rules, existing) + renderFilterRules(rules);
      if (text !== this.lastApplied) {
        await run(['iptables-restore', '-w', '5', '--noflush'], { input: text });
        this.lastApplied = text;
        this.syncCount++;
        this.log.info(
          { rules: rules.length, endpoints: rules.reduce((n, r) => n + r.endpoints.length, 0) },
          'service rules applied',
        );
      }
    } catch (err) {
      this.log.error(
        { err: err instanceof Error ? err.message : String(err) },
        'applying service rules failed; retrying',
      );
      setTimeout(() => this.schedule(), 1000).unref();
    } finally {
      this.syncing = false;
      if (this.again) {
        this.again = false;
        this.schedule();
      }
    }
  }

  async stop(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await Promise.all([this.services.stop(), this.slices.stop()]);
    await removeAllRules();
  }
}

async function ownChains(table = 'nat'): Promise<string[]> {
  const save = await run(['iptables-save', '-t', table]);
  return [...save.stdout.matchAll(/^:(RSK-[^ ]+) /gm)].map((m) => m[1] ?? '');
}

async function ensureJumps(): Promise<void> {
  await run(['iptables-restore', '-w', '5', '--noflush'], {
    input:
      `*nat\n:${CHAIN_SERVICES} - [0:0]\n:${CHAIN_POSTROUTING} - [0:0]\nCOMMIT\n` +
      `*filter\n:${CHAIN_NO_ENDPOINTS} - [0:0]\nCOMMIT\n`,
  });
  for (const [table, chain, ...rest] of JUMPS) {
    const has = await run(['iptables', '-w', '5', '-t', table, '-C', chain, ...rest], { allowFailure: true });
    if (has.code !== 0) await run(['iptables', '-w', '5', '-t', table, '-I', chain, '1', ...rest]);
  }
}

/** Removes the jumps and every RSK-* chain (also after a crash: nothing here depends on in-memory state). */
export async function removeAllRules(): Promise<void> {
  for (const [table, chain, ...rest] of JUMPS) {
    for (let i = 0; i < 10; i++) {
      const r = await run(['iptables', '-w', '5', '-t', table, '-D', chain, ...rest], { allowFailure: true });
      if (r.code !== 0) break;
    }
  }
  for (const table of ['nat', 'filter']) {
    const chains = await ownChains(table);
    if (chains.length === 0) continue;
    const text = [
      `*${table}`,
      ...chains.map((c) => `:${c} - [0:0]`),
      ...chains.map((c) => `-X ${c}`),
      'COMMIT',
      '',
    ].join('\n');
    await run(['iptables-restore', '-w', '5', '--noflush'], { input: text });
  }
}
