import { X509Certificate, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODES } from './cluster.js';
import { apiserverSans, certSpecs, ensurePki, extensionFile, generatePki, subject } from './pki.js';

describe('apiserverSans', () => {
  it('covers the bridge, loopback, the kubernetes Service IP and every in-cluster name', () => {
    const sans = apiserverSans();
    expect([...sans.ipAddresses].sort()).toEqual(['10.244.0.1', '10.96.0.1', '127.0.0.1']);
    expect(sans.dnsNames).toEqual([
      'localhost',
      'kubernetes',
      'kubernetes.default',
      'kubernetes.default.svc',
      'kubernetes.default.svc.cluster.local',
    ]);
  });
});

describe('certSpecs / subject / extensionFile', () => {
  it('gives each node the identity the Node authorizer expects', () => {
    const node = certSpecs(NODES).find((s) => s.name === 'node-2');
    expect(node).toBeDefined();
    expect(subject(node!)).toBe('/O=system:nodes/CN=system:node:node-2');
  });

  it('makes admin a member of system:masters and the apiserver a server-only cert', () => {
    const specs = certSpecs(NODES);
    expect(subject(specs.find((s) => s.name === 'admin')!)).toBe('/O=system:masters/CN=kubernetes-admin');
    const ext = extensionFile(specs.find((s) => s.name === 'apiserver')!);
    expect(ext).toContain('extendedKeyUsage=serverAuth\n');
    expect(ext).toContain('IP:10.96.0.1');
    expect(ext).toContain('DNS:kubernetes.default.svc.cluster.local');
  });

  it('refuses a serving cert without names and a subject that would break -subj', () => {
    const base = { name: 'x', commonName: 'x', organizations: [], dnsNames: [], ipAddresses: [] };
    expect(() => extensionFile({ ...base, usage: 'server' })).toThrow(
      /at least one subject alternative name/,
    );
    expect(() => subject({ ...base, usage: 'client', commonName: 'a/CN=b' })).toThrow(
      /unsupported character/,
    );
  });
});

describe('generatePki (runs openssl)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pki-test-'));
    generatePki({ dir, nodes: NODES, validityDays: 2 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cert = (name: string) => new X509Certificate(readFileSync(join(dir, `${name}.crt`)));

  it('issues every leaf from the CA', () => {
    const ca = cert('ca');
    expect(ca.ca).toBe(true);
    for (const spec of certSpecs(NODES)) {
      const leaf = cert(spec.name);
      expect(leaf.verify(ca.publicKey)).toBe(true);
      expect(leaf.checkIssued(ca)).toBe(true);
      expect(leaf.ca).toBe(false);
    }
  });

  it('puts the apiserver SANs and the node subject into the certificates', () => {
    const san = cert('apiserver').subjectAltName ?? '';
    for (const ip of apiserverSans().ipAddresses) expect(san).toContain(`IP Address:${ip}`);
    for (const dns of apiserverSans().dnsNames) expect(san).toContain(`DNS:${dns}`);
    expect(cert('node-3').subject).toBe('O=system:nodes\nCN=system:node:node-3');
    expect(cert('apiserver').checkIP('10.244.0.1')).toBe('10.244.0.1');
    expect(cert('admin').checkIP('10.244.0.1')).toBeUndefined();
  });

  it('writes a matching service-account key pair', () => {
    const data = Buffer.from('token');
    const signature = sign('sha256', data, createPrivateKey(readFileSync(join(dir, 'sa.key'))));
    expect(verify('sha256', data, createPublicKey(readFileSync(join(dir, 'sa.pub'))), signature)).toBe(true);
  });

  it('rejects an out-of-range validity before touching openssl', () => {
    let calls = 0;
    expect(() => generatePki({ dir, nodes: NODES, validityDays: 0, openssl: () => calls++ })).toThrow(
      /validityDays/,
    );
    expect(calls).toBe(0);
  });
});

describe('ensurePki', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pki-ensure-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('generates once, reuses while valid and unchanged, regenerates near expiry or for new nodes', () => {
    expect(ensurePki({ dir, nodes: NODES, validityDays: 10, minRemainingDays: 1 })).toBe('generated');
    const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
    expect(ensurePki({ dir, nodes: NODES, validityDays: 10, minRemainingDays: 1 })).toBe('reused');
    expect(readFileSync(join(dir, 'ca.crt'), 'utf8')).toBe(ca);
    const inNineDays = new Date(Date.now() + 9.5 * 86_400_000);
    expect(ensurePki({ dir, nodes: NODES, validityDays: 10, minRemainingDays: 1, now: inNineDays })).toBe(
      'generated',
    );
    const fewer = NODES.slice(0, 2);
    expect(ensurePki({ dir, nodes: fewer, validityDays: 10, minRemainingDays: 1 })).toBe('generated');
    expect(readFileSync(join(dir, 'ca.crt'), 'utf8')).not.toBe(ca);
  });
});
