/**
 * Which profile a device gets: its provisioning record (from the compacted "devices" topic, kept
 * in a ProvisioningStore) names it; without one, the first configured rule whose pattern matches
 * the endpoint name decides. Credentials in a record are kept for the security layer and are
 * never logged nor put in an error message.
 */
import { z } from 'zod';
import {
  credentialKey,
  credentialsSchema,
  sameCredentialKey,
  type CredentialKind,
  type CredentialsInput,
} from '../security/credentials';
import { compilePattern } from '../common/pattern';
import { TtlLruCache } from '../common/lru-cache';
import { ProfileError, type ProfileIssue } from './errors';
import { errorMessage } from '../common/error-message';

export interface ProvisioningRecord {
  readonly endpoint: string;
  /** Profile name; absent → the assignment rules decide. */
  readonly profile?: string;
  /** Device credentials (src/security/credentials.ts): never logged. */
  readonly credentials?: CredentialsInput;
  readonly [field: string]: unknown;
}

/** Where provisioning records live: memory now, Redis in clustered deployments. */
export interface ProvisioningStore {
  get(endpoint: string): Promise<ProvisioningRecord | undefined>;
  put(record: ProvisioningRecord): Promise<void>;
  delete(endpoint: string): Promise<void>;
  /**
   * The record a DTLS handshake finds by what it knows (security/credentials.ts credentialKey):
   * a PSK identity, a raw public key's fingerprint, a certificate's CN.
   */
  findByCredential(kind: CredentialKind, id: string): Promise<ProvisioningRecord | undefined>;
}

export class MemoryProvisioningStore implements ProvisioningStore {
  private readonly records = new Map<string, ProvisioningRecord>();
  private readonly byCredential = new Map<string, string>();

  async get(endpoint: string): Promise<ProvisioningRecord | undefined> {
    return this.records.get(endpoint);
  }

  async put(record: ProvisioningRecord): Promise<void> {
    await this.delete(record.endpoint);
    this.records.set(record.endpoint, record);
    const key = credentialKey(record.endpoint, record.credentials);
    if (key !== undefined) this.byCredential.set(`${key.kind}:${key.id}`, record.endpoint);
  }

  async delete(endpoint: string): Promise<void> {
    const key = credentialKey(endpoint, this.records.get(endpoint)?.credentials);
    if (key !== undefined && this.byCredential.get(`${key.kind}:${key.id}`) === endpoint)
      this.byCredential.delete(`${key.kind}:${key.id}`);
    this.records.delete(endpoint);
  }

  async findByCredential(kind: CredentialKind, id: string): Promise<ProvisioningRecord | undefined> {
    const endpoint = this.byCredential.get(`${kind}:${id}`);
    const record = endpoint === undefined ? undefined : this.records.get(endpoint);
    return record !== undefined && sameCredentialKey(credentialKey(record.endpoint, record.credentials), { kind, id })
      ? record
      : undefined;
  }
}

export const provisioningRecordSchema = z
  .object({
    endpoint: z.string().min(1, 'an endpoint name is required'),
    profile: z.string().trim().min(1, 'a profile name must not be empty').optional(),
    credentials: credentialsSchema.optional(),
  })
  .passthrough();

/** Validates a provisioning record; errors name fields only, never values (credentials). */
export function parseProvisioningRecord(input: unknown, origin: string): ProvisioningRecord {
  const parsed = provisioningRecordSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues: ProfileIssue[] = parsed.error.issues.map((i) => ({
    field: i.path.length ? i.path.join('.') : '(document)',
    message: i.code === 'invalid_type' ? `expected ${i.expected}` : i.message,
  }));
  throw new ProfileError(`provisioning record from ${origin} is invalid`, issues);
}

/** A configured rule: a glob ("sensor-*", "dev-??") or a regex written as "/^sensor-\\d+$/i". */
export interface AssignmentRule {
  readonly pattern: string;
  readonly profile: string;
}

export const assignmentRulesSchema = z.array(
  z
    .object({ pattern: z.string().min(1), profile: z.string().trim().min(1) })
    .strict()
    .superRefine((r, ctx) => {
      try {
        compilePattern(r.pattern);
      } catch (err) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['pattern'], message: errorMessage(err) });
      }
    }),
);

/** Parses rules from configuration (e.g. a JSON environment variable); errors name rule and field. */
export function parseAssignmentRules(input: unknown, origin = 'configuration'): AssignmentRule[] {
  const parsed = assignmentRulesSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({
    field:
      i.path
        .map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`))
        .join('')
        .replace(/^\./, '') || '(rules)',
    message: i.message,
  }));
  throw new ProfileError(`profile assignment rules from ${origin} are invalid`, issues);
}

export type AssignmentSource = 'provisioning' | 'rule';

export interface Assignment {
  readonly profile: string;
  readonly via: AssignmentSource;
}

export interface ProfileAssignerOptions {
  readonly store: ProvisioningStore;
  readonly rules?: readonly AssignmentRule[];
  /** Endpoints whose assignment is cached (default 100 000). */
  readonly cacheSize?: number;
  /** How long a cached assignment is trusted (default 30 s): other writers of a shared store are seen after this. */
  readonly cacheTtlMs?: number;
  readonly now?: () => number;
}

/** Resolves endpoint → profile name, with a bounded cache (it runs for every notification). */
export class ProfileAssigner {
  private readonly rules: ReadonlyArray<{ readonly re: RegExp; readonly profile: string }>;
  /** Endpoint → assignment; the wrapper caches "no assignment" too. */
  private readonly cache: TtlLruCache<{ readonly value: Assignment | undefined }>;
  private readonly inflight = new Map<string, Promise<Assignment | undefined>>();
  private readonly now: () => number;
  private generation = 0;

  constructor(private readonly opts: ProfileAssignerOptions) {
    this.rules = (opts.rules ?? []).map((r) => ({ re: compilePattern(r.pattern), profile: r.profile }));
    this.now = opts.now ?? Date.now;
    this.cache = new TtlLruCache(opts.cacheSize ?? 100_000, opts.cacheTtlMs ?? 30_000, this.now);
  }

  get store(): ProvisioningStore {
    return this.opts.store;
  }

  /** The first rule matching the endpoint name. */
  byRules(endpoint: string): Assignment | undefined {
    const rule = this.rules.find((r) => r.re.test(endpoint));
    return rule ? { profile: rule.profile, via: 'rule' } : undefined;
  }

  /** The cached assignment when fresh (undefined when not cached or stale). */
  cached(endpoint: string): { readonly value: Assignment | undefined } | undefined {
    return this.cache.get(endpoint);
  }

  resolve(endpoint: string): Promise<Assignment | undefined> {
    const hit = this.cached(endpoint);
    if (hit) return Promise.resolve(hit.value);
    const running = this.inflight.get(endpoint);
    if (running) return running;
    const generation = this.generation;
    const p = this.opts.store
      .get(endpoint)
      .then((rec) => {
        const value: Assignment | undefined =
          rec?.profile !== undefined ? { profile: rec.profile, via: 'provisioning' } : this.byRules(endpoint);
        if (generation === this.generation) this.remember(endpoint, value);
        return value;
      })
      .finally(() => this.inflight.delete(endpoint));
    this.inflight.set(endpoint, p);
    return p;
  }

  /** Forgets what is cached for an endpoint (its provisioning record changed). */
  invalidate(endpoint: string): void {
    this.cache.delete(endpoint);
    this.inflight.delete(endpoint);
    this.generation++;
  }

  /**
   * Drops expired assignments, oldest first, at most `maxScan` (cached() never returns them): an
   * idle device's entry is released without waiting for the size bound. Returns how many.
   */
  pruneExpired(maxScan: number): number {
    return this.cache.pruneExpired(maxScan);
  }

  private remember(endpoint: string, value: Assignment | undefined): void {
    this.cache.set(endpoint, { value });
  }
}
