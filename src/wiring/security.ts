/**
 * Device credentials for the DTLS server and the registration checks, read from the provisioning
 * store on every handshake (no cache: a revoked or changed credential takes effect at once for
 * new sessions, on every instance).
 * - PSK: the identity finds the record; its key is the key.
 * - RPK: the key's fingerprint finds the record.
 * - X.509 (the chain is verified against DTLS_TRUSTED_CA first): a record whose commonName is the
 *   CN maps it to its endpoint; else the endpoint is the CN itself, unless that endpoint is
 *   provisioned with other credentials.
 */
import type { HandshakeCredentials, PskCredential } from '../dtls/server-handshake';
import type { ProvisioningStore } from '../profile/provisioning';
import { deviceCredentials, rpkFingerprint } from '../security/credentials';
import type { SecurityMode } from '../server/registration/access';

export function dtlsCredentials(store: ProvisioningStore): HandshakeCredentials {
  return {
    async psk(identity: string): Promise<PskCredential | undefined> {
      const record = await store.findByCredential('psk', identity);
      if (record?.credentials === undefined) return undefined;
      const creds = deviceCredentials(record.credentials);
      return creds.mode === 'psk' && creds.identity === identity
        ? { key: creds.key, endpoint: record.endpoint }
        : undefined;
    },
    async rpk(publicKeyDer: Buffer) {
      const record = await store.findByCredential('rpk', rpkFingerprint(publicKeyDer));
      return record !== undefined ? { endpoint: record.endpoint } : undefined;
    },
    async x509(commonName: string) {
      const mapped = await store.findByCredential('x509', commonName);
      if (mapped !== undefined) return { endpoint: mapped.endpoint };
      const own = await store.get(commonName);
      const mode = own?.credentials?.mode;
      return mode === undefined || mode === 'nosec' || mode === 'x509' ? { endpoint: commonName } : undefined;
    },
  };
}

export function provisionedMode(store: ProvisioningStore): (endpoint: string) => Promise<SecurityMode | undefined> {
  return async (endpoint) => (await store.get(endpoint))?.credentials?.mode;
}
