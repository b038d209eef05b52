import { KubeConfig } from '@kubernetes/client-node';
import { buildKubeconfig, renderKubeconfig } from './kubeconfig.js';

const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n';
const input = {
  clusterName: 'raftstore-e2e',
  server: 'https://127.0.0.1:6443',
  caPem: CERT,
  user: 'system:node:node-1',
  clientCertPem: CERT,
  clientKeyPem: KEY,
};

describe('buildKubeconfig', () => {
  it('is read back by @kubernetes/client-node with the same server, user and credentials', () => {
    const kc = new KubeConfig();
    kc.loadFromString(renderKubeconfig(input));
    expect(kc.getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
    expect(kc.getCurrentUser()?.name).toBe('system:node:node-1');
    expect(Buffer.from(kc.getCurrentCluster()?.caData ?? '', 'base64').toString()).toBe(CERT);
    expect(Buffer.from(kc.getCurrentUser()?.keyData ?? '', 'base64').toString()).toBe(KEY);
  });

  it('rejects a plain-http server and swapped PEM blocks', () => {
    expect(() => buildKubeconfig({ ...input, server: 'http://127.0.0.1:8080' })).toThrow(/must be https/);
    expect(() => buildKubeconfig({ ...input, clientKeyPem: CERT })).toThrow(/client key/);
    expect(() => buildKubeconfig({ ...input, caPem: KEY })).toThrow(/CA/);
  });
});
