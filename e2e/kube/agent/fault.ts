// CLI for the agent's fault API (see faults.ts):
//   npx tsx e2e/kube/agent/fault.ts pods
//   npx tsx e2e/kube/agent/fault.ts partition <ns>/<pod> [peerIP,...]
//   npx tsx e2e/kube/agent/fault.ts heal <ns>/<pod>
//   npx tsx e2e/kube/agent/fault.ts kill <ns>/<pod> [container]
//   npx tsx e2e/kube/agent/fault.ts stop-node <node> [--kill]
//   npx tsx e2e/kube/agent/fault.ts start-node <node>
// The agent writes its address to <state-dir>/agent/faults.addr (state dir: $RAFTSTORE_KUBE_DIR or /var/tmp/raftstore-kube).
import { readFileSync } from 'node:fs';
import path from 'node:path';

function usage(): never {
  process.stderr.write(
    'usage: fault.ts pods | partition <ns>/<pod> [peers] | heal <ns>/<pod> | kill <ns>/<pod> [container] | stop-node <node> [--kill] | start-node <node>\n',
  );
  process.exit(2);
}

export function faultRequest(argv: readonly string[]): { method: 'GET' | 'POST'; path: string } {
  const [cmd, target, extra] = argv;
  const pod = (): string => {
    if (target === undefined || !/^[^/]+\/[^/]+$/.test(target))
      throw new Error(`${cmd}: want <namespace>/<pod>, got ${target}`);
    return target;
  };
  switch (cmd) {
    case 'pods':
      return { method: 'GET', path: '/pods' };
    case 'partition':
      return {
        method: 'POST',
        path: `/pods/${pod()}/partition${extra === undefined ? '' : `?peers=${encodeURIComponent(extra)}`}`,
      };
    case 'heal':
      return { method: 'POST', path: `/pods/${pod()}/heal` };
    case 'kill':
      return {
        method: 'POST',
        path: `/pods/${pod()}/kill${extra === undefined ? '' : `?container=${encodeURIComponent(extra)}`}`,
      };
    case 'stop-node':
    case 'start-node':
      if (target === undefined) throw new Error(`${cmd}: want a node name`);
      return {
        method: 'POST',
        path: `/nodes/${target}/${cmd === 'stop-node' ? 'stop' : 'start'}${extra === '--kill' ? '?kill=true' : ''}`,
      };
    default:
      throw new Error(`unknown command ${cmd}`);
  }
}

async function main(): Promise<void> {
  if (process.argv.length < 3) usage();
  const req = faultRequest(process.argv.slice(2));
  const dir = process.env['RAFTSTORE_KUBE_DIR'] ?? '/var/tmp/raftstore-kube';
  const addrFile = path.join(dir, 'agent', 'faults.addr');
  let addr: string;
  try {
    addr = readFileSync(addrFile, 'utf8').trim();
  } catch {
    throw new Error(`${addrFile} not found: is the node agent running (npm run kube:up)?`);
  }
  const res = await fetch(`http://${addr}${req.path}`, {
    method: req.method,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  process.stdout.write(text + '\n');
  if (!res.ok) process.exit(1);
}

if (
  process.argv[1] !== undefined &&
  path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)
) {
  main().catch((err: unknown) => {
    process.stderr.write(`fault: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
