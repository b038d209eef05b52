// The cluster's PKI: one CA (also the controller-manager's cluster-signing CA), the apiserver's serving cert, a
// client cert per identity (admin, controllers, nodes), and the service-account signing key pair.
// Certificates are made with the openssl CLI (Node's crypto can verify X.509 but cannot issue it); keys are
// ECDSA P-256, which every Kubernetes component accepts and which is fast to generate on a small CI machine.
import { execFileSync } from 'node:child_process';
import { X509Certificate, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BRIDGE_ADDRESS, CLUSTER_DOMAIN, KUBERNETES_SERVICE_IP, type SimulatedNode } from './cluster.js';

export type CertUsage = 'server' | 'client' | 'server-client';

export interface CertSpec {
  /** File stem: `<name>.crt` and `<name>.key` in the pki dir. */
  readonly name: string;
  readonly commonName: string;
  readonly organizations: readonly string[];
  readonly usage: CertUsage;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
}

export interface SubjectAltNames {
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
}

/** Every name a client may use to reach the apiserver: host, bridge (pods), and the `kubernetes` Service. */
export function apiserverSans(clusterDomain: string = CLUSTER_DOMAIN): SubjectAltNames {
  return {
    dnsNames: [
      'localhost',
      'kubernetes',
      'kubernetes.default',
      'kubernetes.default.svc',
      `kubernetes.default.svc.${clusterDomain}`,
    ],
    ipAddresses: [BRIDGE_ADDRESS, '127.0.0.1', KUBERNETES_SERVICE_IP],
  };
}

/** The certificates the cluster needs, each named after the identity the apiserver will see. */
export function certSpecs(nodes: readonly SimulatedNode[]): CertSpec[] {
  const client = (name: string, commonName: string, organizations: string[] = []): CertSpec => ({
    name,
    commonName,
    organizations,
    usage: 'client',
    dnsNames: [],
    ipAddresses: [],
  });
  const sans = apiserverSans();
  return [
    { name: 'apiserver', commonName: 'kube-apiserver', organizations: [], usage: 'server', ...sans },
    client('apiserver-kubelet-client', 'kube-apiserver-kubelet-client', ['system:masters']),
    client('admin', 'kubernetes-admin', ['system:masters']),
    client('kube-controller-manager', 'system:kube-controller-manager'),
    client('kube-scheduler', 'system:kube-scheduler'),
    client('coredns', 'system:coredns'),
    // Node certs also carry serverAuth and the node's names so the agent may serve a kubelet-style endpoint.
    ...nodes.map((n): CertSpec => ({
      name: n.name,
      commonName: `system:node:${n.name}`,
      organizations: ['system:nodes'],
      usage: 'server-client',
      dnsNames: [n.name, 'localhost'],
      ipAddresses: [BRIDGE_ADDRESS, '127.0.0.1'],
    })),
  ];
}

const SUBJECT_VALUE = /^[A-Za-z0-9:._ -]+$/;

/** openssl's -subj form, organizations first so CN is the last RDN, as Kubernetes' own tooling writes it. */
export function subject(spec: CertSpec): string {
  for (const v of [spec.commonName, ...spec.organizations]) {
    if (!SUBJECT_VALUE.test(v))
      throw new Error(`certificate ${spec.name}: unsupported character in subject "${v}"`);
  }
  return [...spec.organizations.map((o) => `/O=${o}`), `/CN=${spec.commonName}`].join('');
}

/** The x509v3 extension file for `openssl x509 -req -extfile`. */
export function extensionFile(spec: CertSpec): string {
  const eku = { server: 'serverAuth', client: 'clientAuth', 'server-client': 'serverAuth,clientAuth' }[
    spec.usage
  ];
  if (spec.usage !== 'client' && spec.dnsNames.length + spec.ipAddresses.length === 0) {
    throw new Error(
      `certificate ${spec.name}: a serving certificate needs at least one subject alternative name`,
    );
  }
  const lines = [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    `extendedKeyUsage=${eku}`,
  ];
  const alt = [...spec.dnsNames.map((d) => `DNS:${d}`), ...spec.ipAddresses.map((ip) => `IP:${ip}`)];
  if (alt.length > 0) lines.push(`subjectAltName=${alt.join(',')}`);
  return lines.join('\n') + '\n';
}

export interface PkiOptions {
  readonly dir: string;
  readonly nodes: readonly SimulatedNode[];
  readonly validityDays: number;
  /** Runs openssl; injected so a test can count or fail calls. Must throw on a non-zero exit. */
  readonly openssl?: (args: readonly string[]) => void;
}

const OPENSSL_TIMEOUT_MS = 30_000;

function runOpenssl(args: readonly string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: OPENSSL_TIMEOUT_MS });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim() ?? '';
    throw new Error(`openssl ${args.slice(0, 2).join(' ')} failed: ${stderr || String(err)}`);
  }
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Writes ca.{crt,key}, <spec>.{crt,key} for every spec, and sa.{key,pub} into `dir`. Overwrites what is there. */
export function generatePki(opts: PkiOptions): void {
  if (!Number.isInteger(opts.validityDays) || opts.validityDays < 1 || opts.validityDays > 3650) {
    throw new Error(`validityDays must be an integer in [1, 3650], got ${opts.validityDays}`);
  }
  const openssl = opts.openssl ?? runOpenssl;
  const dir = opts.dir;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = { crt: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
  openssl([
    'req',
    '-x509',
    '-new',
    ...EC_KEY,
    '-keyout',
    ca.key,
    '-out',
    ca.crt,
    '-days',
    String(opts.validityDays),
    '-subj',
    '/CN=raftstore-e2e-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  ]);
  for (const spec of certSpecs(opts.nodes)) {
    const key = join(dir, `${spec.name}.key`);
    const csr = join(dir, `${spec.name}.csr`);
    const ext = join(dir, `${spec.name}.ext`);
    writeFileSync(ext, extensionFile(spec));
    openssl(['req', '-new', ...EC_KEY, '-keyout', key, '-out', csr, '-subj', subject(spec)]);
    openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.crt,
      '-CAkey',
      ca.key,
      // Random serials: a regenerated cert must never share a serial with one a client may have cached.
      '-set_serial',
      `0x${randomBytes(16)
        .toString('hex')
        .replace(/^[89a-f]/, '7')}`,
      '-days',
      String(opts.validityDays),
      '-extfile',
      ext,
      '-out',
      join(dir, `${spec.name}.crt`),
    ]);
  }
  // Service-account tokens are signed with ES256; the apiserver verifies with the public half.
  const sa = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  writeFileSync(join(dir, 'sa.key'), sa.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(join(dir, 'sa.pub'), sa.publicKey.export({ type: 'spki', format: 'pem' }));
}

const MANIFEST = 'manifest.json';
const DAY_MS = 86_400_000;

/** What the PKI was generated from; a change (new node, new SAN) means it must be generated again. */
export function pkiManifest(nodes: readonly SimulatedNode[]): string {
  return JSON.stringify({ version: 1, specs: certSpecs(nodes) }, null, 2) + '\n';
}

/**
 * Reuses the PKI in `dir` when it was generated from the same specs and every certificate stays valid for at least
 * `minRemainingDays`; otherwise generates it afresh. Saves a dozen openssl runs on each warm kube:up.
 */
export function ensurePki(
  opts: PkiOptions & { minRemainingDays: number; now?: Date },
): 'reused' | 'generated' {
  const manifestFile = join(opts.dir, MANIFEST);
  const want = pkiManifest(opts.nodes);
  const validUntil = (opts.now ?? new Date()).getTime() + opts.minRemainingDays * DAY_MS;
  const names = ['ca', ...certSpecs(opts.nodes).map((s) => s.name)];
  const reusable =
    existsSync(manifestFile) &&
    readFileSync(manifestFile, 'utf8') === want &&
    ['sa.key', 'sa.pub', ...names.map((n) => `${n}.key`)].every((f) => existsSync(join(opts.dir, f))) &&
    names.every((n) => {
      const file = join(opts.dir, `${n}.crt`);
      return existsSync(file) && Date.parse(new X509Certificate(readFileSync(file)).validTo) > validUntil;
    });
  if (reusable) return 'reused';
  generatePki(opts);
  writeFileSync(manifestFile, want);
  return 'generated';
}
