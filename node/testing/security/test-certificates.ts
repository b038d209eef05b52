// Certificates for tests of mutual TLS, made with the openssl command line (node cannot sign certificates): a CA,
// and leaf certificates it signs for 127.0.0.1/localhost, usable as server and as client. Short-lived (2 days), EC
// P-256 keys, all in one temporary directory.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TlsFiles } from '../../shared/security/transport-security.js';

export interface TestCa {
  readonly dir: string;
  readonly caFile: string;
  readonly caKeyFile: string;
  /** A certificate signed by this CA, named `name`, for 127.0.0.1 and localhost. */
  issue(name: string): TlsFiles;
}

/** openssl req arguments for a new EC P-256 key, unencrypted, written to `keyFile`. */
function newKey(keyFile: string): string[] {
  return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile];
}

function openssl(args: readonly string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function createTestCa(
  label: string,
  dir = mkdtempSync(join(tmpdir(), `raftstore-tls-${label}-`)),
): TestCa {
  const caFile = join(dir, `${label}-ca.crt`);
  const caKeyFile = join(dir, `${label}-ca.key`);
  openssl(
    ['req', '-x509', ...newKey(caKeyFile), '-out', caFile, '-days', '2', '-subj', `/CN=${label} test CA`],
    dir,
  );
  const extFile = join(dir, 'leaf.ext');
  writeFileSync(
    extFile,
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n',
  );
  return {
    dir,
    caFile,
    caKeyFile,
    issue(name: string): TlsFiles {
      const keyFile = join(dir, `${label}-${name}.key`);
      const csr = join(dir, `${label}-${name}.csr`);
      const certFile = join(dir, `${label}-${name}.crt`);
      openssl(['req', ...newKey(keyFile), '-out', csr, '-subj', `/CN=${name}`], dir);
      openssl(
        [
          'x509',
          '-req',
          '-in',
          csr,
          '-CA',
          caFile,
          '-CAkey',
          caKeyFile,
          '-CAcreateserial',
          '-out',
          certFile,
          '-days',
          '2',
          '-extfile',
          extFile,
        ],
        dir,
      );
      return { caFile, certFile, keyFile };
    },
  };
}
