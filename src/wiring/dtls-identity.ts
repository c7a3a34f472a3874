/**
 * The DTLS server identity and client trust anchors from configuration: DTLS_SERVER_KEY,
 * DTLS_SERVER_CERT and DTLS_TRUSTED_CA each hold PEM text or the path of a PEM file. Anything
 * unusable stops the start with a ConfigError naming the variable (exit code 2).
 */
import type { X509Certificate } from 'node:crypto';
import type { Config } from '../config/env';
import { certificatesFromPem, loadServerIdentity, type ServerIdentity } from '../dtls/server-identity';
import { ConfigError } from '../common/errors';
import { pemFromConfig as pem } from '../config/pem';

export interface DtlsIdentity {
  readonly server?: ServerIdentity;
  readonly trustAnchors: readonly X509Certificate[];
}

export function loadDtlsIdentity(config: Config): DtlsIdentity {
  if (config.DTLS_SERVER_CERT !== '' && config.DTLS_SERVER_KEY === '')
    throw new ConfigError('DTLS_SERVER_CERT is set but DTLS_SERVER_KEY is not: the certificate needs its private key');
  const server =
    config.DTLS_SERVER_KEY === ''
      ? undefined
      : loadServerIdentity(
          pem('DTLS_SERVER_KEY', config.DTLS_SERVER_KEY),
          config.DTLS_SERVER_CERT === '' ? undefined : pem('DTLS_SERVER_CERT', config.DTLS_SERVER_CERT),
          'DTLS_SERVER_KEY/DTLS_SERVER_CERT',
        );
  const trustAnchors =
    config.DTLS_TRUSTED_CA === ''
      ? []
      : certificatesFromPem(pem('DTLS_TRUSTED_CA', config.DTLS_TRUSTED_CA), 'DTLS_TRUSTED_CA');
  return { ...(server !== undefined ? { server } : {}), trustAnchors };
}
