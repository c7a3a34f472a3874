/**
 * Where registrations live. The in-memory implementation is the embedded default; a Redis
 * implementation (shared by all instances) follows the same contract. Every method is atomic
 * with respect to one endpoint: a Register racing an Update never leaves a half-written session.
 */
import type { Registration } from './registration';

export interface RegisterResult {
  /** The registration this one replaced (same endpoint registering again), if any. */
  readonly replaced?: Registration;
}

export interface UpdateResult {
  readonly before: Registration;
  readonly after: Registration;
}

export type RegistrationChanges = Partial<
  Pick<
    Registration,
    | 'address'
    | 'port'
    | 'lifetime'
    | 'binding'
    | 'queueMode'
    | 'smsNumber'
    | 'objects'
    | 'objectLinks'
    | 'rootPath'
    | 'supportedContentFormats'
  >
>;

export interface RegistrationStore {
  register(reg: Registration): Promise<RegisterResult>;
  /** Applies changes and refreshes lastUpdate/expiresAt; undefined when the id is unknown. */
  update(id: string, changes: RegistrationChanges, now: number): Promise<UpdateResult | undefined>;
  deregister(id: string): Promise<Registration | undefined>;
  getById(id: string): Promise<Registration | undefined>;
  getByEndpoint(endpoint: string): Promise<Registration | undefined>;
  /** The plaintext registration whose device currently sends from this address (Send, LwM2M-Core 1.2 §6.4.3; see indexedByAddress). */
  getByAddress(address: string, port: number): Promise<Registration | undefined>;
  /** Removes and returns registrations whose expiresAt + grace is before now; each is returned once. */
  takeExpired(now: number, graceMs: number): Promise<Registration[]>;
  count(): Promise<number>;
  list(offset: number, limit: number): Promise<Registration[]>;
}

/**
 * Only plaintext registrations are found by address (a plaintext Send names its device by its
 * source address alone). A DTLS device is found by its authenticated identity: behind a NAT with
 * endpoint-dependent mapping a plaintext device and a DTLS device can share one public address
 * and port (their flows go to different server ports), and must not shadow each other.
 */
export function indexedByAddress(reg: Pick<Registration, 'security'>): boolean {
  return reg.security === undefined;
}
