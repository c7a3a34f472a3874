/**
 * Device credentials for the DTLS server and the registration checks, read from the provisioning
 * store on every handshake (no cache: a revoked or changed credential takes effect at once for
 * new sessions, on every instance).
 */
import type { HandshakeCredentials, PskCredential } from '../dtls/server-handshake';
import type { ProvisioningStore } from '../profile/provisioning';
import { deviceCredentials } from '../security/credentials';
import type { SecurityMode } from '../server/registration/access';

export function dtlsCredentials(store: ProvisioningStore): HandshakeCredentials {
  return {
    async psk(identity: string): Promise<PskCredential | undefined> {
      const record = await store.findByCredential('psk', identity);
      if (record?.credentials === undefined) return undefined;
      const creds = deviceCredentials(record.credentials);
      return creds.mode === 'psk' && creds.identity === identity ? { key: creds.key, endpoint: record.endpoint } : undefined;
    },
  };
}

export function provisionedMode(store: ProvisioningStore): (endpoint: string) => Promise<SecurityMode | undefined> {
  return async (endpoint) => (await store.get(endpoint))?.credentials?.mode;
}
