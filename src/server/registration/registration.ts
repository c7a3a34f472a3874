/**
 * A device registration (LwM2M-Core 1.2 §6.2.1, Transport 1.2 §6.2 "Registration Interface").
 * Plain serialisable data: the store (memory or Redis) keeps it as is.
 */
export type LwM2mVersion = '1.0' | '1.1' | '1.2';
export const SUPPORTED_VERSIONS: readonly LwM2mVersion[] = ['1.0', '1.1', '1.2'];

export interface ObjectLinkEntry {
  readonly objectId: number;
  /** Object version from `ver` (LwM2M 1.1+), undefined when the device announced none. */
  readonly version?: string;
  readonly instances: readonly number[];
}

export interface Registration {
  readonly id: string;
  readonly endpoint: string;
  readonly address: string;
  readonly port: number;
  /** Seconds (lt). */
  readonly lifetime: number;
  readonly lwm2mVersion: LwM2mVersion;
  /** Binding mode (b), e.g. "U", "UQ" (1.0), "T", "S". */
  readonly binding: string;
  /** Queue mode: "Q" parameter (1.1+) or "Q" in the 1.0 binding. */
  readonly queueMode: boolean;
  readonly smsNumber?: string;
  /** Alternate path from `</path>;rt="oma.lwm2m"`, "/" by default (LwM2M-Core 1.2 §6.2.1). */
  readonly rootPath: string;
  /** Content formats announced with `ct` on the root link (LwM2M 1.1+). */
  readonly supportedContentFormats?: readonly number[];
  readonly objects: readonly ObjectLinkEntry[];
  /** The Register payload as received (CoRE link format). */
  readonly objectLinks: string;
  readonly registeredAt: number;
  readonly lastUpdate: number;
  /** Unix ms after which the registration expires (lastUpdate + lifetime). */
  readonly expiresAt: number;
  /**
   * Set when the device registered over DTLS: how it authenticated. Its downlinks then only
   * leave through a DTLS connection, and its Update and De-register must come over DTLS as the
   * same endpoint (LwM2M-Core 1.2 §7.1: a client acts only as the endpoint its credentials name).
   */
  readonly security?: { readonly mode: 'psk' | 'rpk' | 'x509'; readonly name: string };
}

export function objectVersions(reg: Registration): Map<number, string> {
  const m = new Map<number, string>();
  for (const o of reg.objects) if (o.version !== undefined) m.set(o.objectId, o.version);
  return m;
}
