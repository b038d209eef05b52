// One place decides how every gRPC connection of the product is secured: members' servers (client, peer and admin
// traffic), their channels to each other (Raft, forwarding, peer status), raftctl, the operator, the benchmarks and
// tests. Either plaintext, or mutual TLS from three PEM files: the CA that signs every certificate of the cluster,
// this party's certificate and its key. Long-lived parties watch the files and pick up rotated certificates without
// a restart (a Kubernetes Secret volume swaps all three at once); short-lived tools read them once.
import { readFileSync } from 'node:fs';
import { credentials, experimental, ServerCredentials, type ChannelCredentials } from '@grpc/grpc-js';

/** The PEM files of one party of a mutual-TLS cluster. */
export interface TlsFiles {
  /** The cluster's CA certificate: peers' certificates must chain to it. */
  readonly caFile: string;
  /** This party's certificate (chain), presented to the other side. */
  readonly certFile: string;
  readonly keyFile: string;
}

export type TransportSecurity =
  { readonly mode: 'plaintext' } | { readonly mode: 'mutualTls'; readonly files: TlsFiles };

export const PLAINTEXT: TransportSecurity = { mode: 'plaintext' };

/** How often long-lived parties re-read their certificate files. Rotation is picked up within this. */
export const CERTIFICATE_REFRESH_MS = 60_000;

export class TransportSecurityError extends Error {
  override readonly name = 'TransportSecurityError';
}

/**
 * Mutual TLS from the three files, or plaintext when none is given. Giving only some is an error naming the missing
 * ones: half a TLS configuration is a mistake, never a request for plaintext.
 */
export function transportSecurity(files: {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}): TransportSecurity {
  const given = [files.caFile, files.certFile, files.keyFile].filter((f) => f !== '').length;
  if (given === 0) return PLAINTEXT;
  if (given < 3) {
    const missing = (['caFile', 'certFile', 'keyFile'] as const).filter((k) => files[k] === '');
    throw new TransportSecurityError(
      `mutual TLS needs a CA, a certificate and a key file; missing: ${missing.join(', ')}`,
    );
  }
  return { mode: 'mutualTls', files };
}

/** Reads the three files now, so a wrong path or an unreadable key fails at start-up with its name, not at the first call. */
export function checkReadable(security: TransportSecurity): void {
  if (security.mode === 'plaintext') return;
  for (const [what, path] of [
    ['CA certificate', security.files.caFile],
    ['certificate', security.files.certFile],
    ['key', security.files.keyFile],
  ] as const) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new TransportSecurityError(`cannot read the TLS ${what} ${path}: ${(err as Error).message}`);
    }
    if (!text.includes('-----BEGIN ')) {
      throw new TransportSecurityError(`the TLS ${what} ${path} is not PEM`);
    }
  }
}

function watcher(files: TlsFiles): experimental.FileWatcherCertificateProvider {
  return new experimental.FileWatcherCertificateProvider({
    caCertificateFile: files.caFile,
    certificateFile: files.certFile,
    privateKeyFile: files.keyFile,
    refreshIntervalMs: CERTIFICATE_REFRESH_MS,
  });
}

/** A server's credentials: with mutual TLS a client must present a certificate the cluster's CA signed. */
export function serverCredentials(security: TransportSecurity): ServerCredentials {
  if (security.mode === 'plaintext') return ServerCredentials.createInsecure();
  const provider = watcher(security.files);
  return experimental.createCertificateProviderServerCredentials(provider, provider, true);
}

export interface ChannelOptions {
  /**
   * Re-read the files as they rotate (members, the operator). Off for short-lived tools (raftctl), which read them
   * once: a watcher's timer would keep them alive until their channels close.
   */
  readonly watch: boolean;
}

/** A channel's credentials: with mutual TLS the server must present a certificate the cluster's CA signed for its name. */
export function channelCredentials(security: TransportSecurity, options: ChannelOptions): ChannelCredentials {
  if (security.mode === 'plaintext') return credentials.createInsecure();
  const { files } = security;
  if (options.watch) {
    const provider = watcher(files);
    return experimental.createCertificateProviderChannelCredentials(provider, provider);
  }
  return credentials.createSsl(
    readFileSync(files.caFile),
    readFileSync(files.keyFile),
    readFileSync(files.certFile),
  );
}

export function describeSecurity(security: TransportSecurity): string {
  return security.mode === 'plaintext'
    ? 'plaintext'
    : `mutual TLS (CA ${security.files.caFile}, certificate ${security.files.certFile})`;
}
