import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  channelCredentials,
  checkReadable,
  PLAINTEXT,
  serverCredentials,
  transportSecurity,
  TransportSecurityError,
} from './transport-security.js';

describe('transport security', () => {
  test('no files is plaintext, three is mutual TLS, one or two is an error naming the missing ones', () => {
    expect(transportSecurity({ caFile: '', certFile: '', keyFile: '' })).toEqual(PLAINTEXT);
    const files = { caFile: '/ca.crt', certFile: '/me.crt', keyFile: '/me.key' };
    expect(transportSecurity(files)).toEqual({ mode: 'mutualTls', files });
    expect(() => transportSecurity({ ...files, keyFile: '' })).toThrow(
      new TransportSecurityError('mutual TLS needs a CA, a certificate and a key file; missing: keyFile'),
    );
  });

  test('unreadable or non-PEM files stop a start with the file named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tls-check-'));
    try {
      const pem = join(dir, 'ok.pem');
      writeFileSync(pem, '-----BEGIN CERTIFICATE-----\n...\n');
      const junk = join(dir, 'junk.pem');
      writeFileSync(junk, 'not a certificate');
      const missing = join(dir, 'missing.key');
      const security = (keyFile: string) => transportSecurity({ caFile: pem, certFile: pem, keyFile });
      expect(() => checkReadable(security(missing))).toThrow(`cannot read the TLS key ${missing}`);
      expect(() => checkReadable(security(junk))).toThrow(`the TLS key ${junk} is not PEM`);
      expect(() => checkReadable(security(pem))).not.toThrow();
      expect(() => checkReadable(PLAINTEXT)).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('plaintext credentials are the insecure ones', () => {
    expect(serverCredentials(PLAINTEXT)._isSecure()).toBe(false);
    expect(channelCredentials(PLAINTEXT, { watch: false })._isSecure()).toBe(false);
  });
});
