// Kubeconfig files with the CA and the client credentials embedded, so each file works on its own from any cwd.
// Written as JSON, which is valid YAML and what kubectl, client-go and @kubernetes/client-node all read.

export interface KubeconfigInput {
  readonly clusterName: string;
  readonly server: string;
  readonly caPem: string;
  readonly user: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
}

export interface Kubeconfig {
  readonly apiVersion: 'v1';
  readonly kind: 'Config';
  readonly clusters: readonly {
    name: string;
    cluster: { server: string; 'certificate-authority-data': string };
  }[];
  readonly users: readonly {
    name: string;
    user: { 'client-certificate-data': string; 'client-key-data': string };
  }[];
  readonly contexts: readonly { name: string; context: { cluster: string; user: string } }[];
  readonly 'current-context': string;
  readonly preferences: Record<string, never>;
}

const b64 = (pem: string): string => Buffer.from(pem, 'utf8').toString('base64');

function requirePem(what: string, pem: string, kind: RegExp): void {
  if (!kind.test(pem)) throw new Error(`kubeconfig: ${what} is not a PEM block of the expected kind`);
}

export function buildKubeconfig(input: KubeconfigInput): Kubeconfig {
  const url = new URL(input.server);
  if (url.protocol !== 'https:') throw new Error(`kubeconfig: server must be https, got ${input.server}`);
  requirePem('CA', input.caPem, /-----BEGIN CERTIFICATE-----/);
  requirePem('client certificate', input.clientCertPem, /-----BEGIN CERTIFICATE-----/);
  requirePem('client key', input.clientKeyPem, /-----BEGIN (EC |RSA )?PRIVATE KEY-----/);
  const context = `${input.user}@${input.clusterName}`;
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: input.clusterName,
        cluster: { server: input.server, 'certificate-authority-data': b64(input.caPem) },
      },
    ],
    users: [
      {
        name: input.user,
        user: {
          'client-certificate-data': b64(input.clientCertPem),
          'client-key-data': b64(input.clientKeyPem),
        },
      },
    ],
    contexts: [{ name: context, context: { cluster: input.clusterName, user: input.user } }],
    'current-context': context,
    preferences: {},
  };
}

export function renderKubeconfig(input: KubeconfigInput): string {
  return JSON.stringify(buildKubeconfig(input), null, 2) + '\n';
}
