/**
 * Drives device setup from the server's events and from profile and provisioning changes:
 * - registered (also a re-registration): full setup under the device's profile;
 * - updated: set up again only when the object links changed (diffed against the old links);
 * - deregistered, expired: forgotten;
 * - a profile changed: every device set up here under it is set up again (diffed against the old
 *   profile: observations it no longer wants are cancelled, new ones added, attributes rewritten);
 * - a provisioning record changed: that device is set up again under its new profile.
 * Setups of one endpoint run one after another; across endpoints at most `concurrency` at once.
 */
import type { ServerEvent } from '../server/events';
import type { Registration } from '../server/registration/registration';
import { compileProfile, type CompiledProfile } from './compile';
import { errorMessage } from '../common/error-message';
import { isNotRegistered, type DeviceManagement, type FailureReporter } from './device-management';
import { DeviceSetup, emitProfileEvent, type PreviousSetup } from './device-setup';
import type { ValueConverter } from './json-value';
import { ProfileEvents, type ApplyReason } from './profile-events';
import type { ProfileChange, ProfileRegistry } from './profile-registry';
import type { ProfileAssigner } from './provisioning';
import type { Publisher } from './publisher';
import { parseProfile } from './schema';
import { SetupPacer } from './setup-pacer';

/**
 * A Register's `registered` event is emitted while its request is handled, before the 2.01
 * Created is sent; from there to the send is synchronous or microtasks only (the store writes are
 * done by then), so a setup started in the check phase (setImmediate) sends its first request
 * after the 2.01: a device hears nothing from the server before its registration is confirmed
 * (LwM2M-Core 1.2 §6.2.1). Pinned by registration-flow-order.test.ts.
 */
function afterReply(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export interface RegistrationFlowOptions {
  readonly server: DeviceManagement;
  readonly registry: ProfileRegistry;
  readonly assigner: ProfileAssigner;
  readonly publisher: Publisher;
  readonly onFailure: FailureReporter;
  readonly convert?: ValueConverter;
  /** Device setups running at once across endpoints (default 64). */
  readonly concurrency?: number;
  /** Setup requests outstanding at once across devices (default: `concurrency`); one per device always (setup-pacer.ts). */
  readonly maxOutstandingRequests?: number;
  /** After an empty ACK to a setup's composite operation, how long its response may take (default: the server's bound). */
  readonly compositeSeparateTimeoutMs?: number;
  readonly now?: () => number;
  /** Where profile events go besides the events topic (default: a new emitter, `events`). */
  readonly events?: ProfileEvents;
}

/** A profile that asks nothing: what a device falls back to when its profile is withdrawn. */
function emptyProfile(name: string): CompiledProfile {
  return compileProfile(parseProfile({ name, unmappedPaths: 'drop' }, 'built-in'));
}

export class RegistrationFlow {
  readonly events: ProfileEvents;
  /** Endpoints registered through this instance → the profile name they were set up with (null: none). */
  private readonly profileOf = new Map<string, string | null>();
  private readonly queues = new Map<string, Promise<void>>();
  private readonly waiting: Array<() => void> = [];
  private running = 0;
  private unsubscribe: Array<() => void> = [];
  /** Paces the setups' requests: NSTART = 1 per device, a global bound (setup-pacer.ts). */
  readonly pacer: SetupPacer;
  private readonly pacedServer: DeviceManagement;

  constructor(private readonly opts: RegistrationFlowOptions) {
    this.events = opts.events ?? new ProfileEvents();
    this.pacer = new SetupPacer(opts.maxOutstandingRequests ?? opts.concurrency ?? 64);
    this.pacedServer = this.pacer.wrap(opts.server);
  }

  start(): void {
    this.unsubscribe = [
      this.opts.server.events.on((e) => this.onServerEvent(e)),
      this.opts.registry.onChange((c) => this.onProfileChange(c)),
    ];
  }

  async stop(): Promise<void> {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    await this.idle();
  }

  /** Resolves when no setup is queued or running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.queues.size > 0) await Promise.all([...this.queues.values()]);
  }

  /** The profile an endpoint registered here was set up with. */
  profileOfEndpoint(endpoint: string): string | null | undefined {
    return this.profileOf.get(endpoint);
  }

  /** A provisioning record of `endpoint` changed: set it up again if it registered here. */
  assignmentChanged(endpoint: string): void {
    if (!this.profileOf.has(endpoint)) return;
    const before = this.profileOf.get(endpoint) ?? null;
    this.enqueue(endpoint, async () => {
      const reg = await this.opts.server.registration(endpoint);
      const old = before === null ? undefined : this.opts.registry.get(before);
      await this.apply(reg, 'assignment-changed', (profile) =>
        old && old.name !== profile.name ? { profile: old, registration: reg } : undefined,
      );
    });
  }

  private onServerEvent(e: ServerEvent): void {
    switch (e.type) {
      case 'registered':
        this.profileOf.set(e.registration.endpoint, null);
        // Emitted before the 2.01 goes out: the setup starts after it (afterReply).
        this.enqueue(e.registration.endpoint, () => this.apply(e.registration, 'registered', () => undefined), true);
        return;
      case 'updated':
        if (e.before.objectLinks === e.after.objectLinks) return;
        this.enqueue(e.after.endpoint, () =>
          this.apply(e.after, 'updated', (profile) => ({ profile, registration: e.before })),
        );
        return;
      case 'deregistered':
      case 'expired':
        this.profileOf.delete(e.registration.endpoint);
        return;
      default:
    }
  }

  private onProfileChange(change: ProfileChange): void {
    for (const [endpoint, name] of this.profileOf) {
      if (name !== change.name) continue;
      this.enqueue(endpoint, async () => {
        const reg = await this.opts.server.registration(endpoint);
        await this.apply(reg, 'profile-changed', () =>
          change.previous ? { profile: change.previous, registration: reg } : undefined,
        );
      });
    }
  }

  /**
   * Resolves the device's profile and runs the setup. `previousOf` gives what was in force before,
   * given the profile now in force. A withdrawn profile leaves an empty one: its observations are
   * cancelled and its attributes removed.
   */
  private async apply(
    reg: Registration,
    reason: ApplyReason,
    previousOf: (profile: CompiledProfile) => PreviousSetup | undefined,
  ): Promise<void> {
    const ep = reg.endpoint;
    const assignment = await this.opts.assigner.resolve(ep);
    if (this.profileOf.has(ep)) this.profileOf.set(ep, assignment?.profile ?? null);
    const found = assignment ? this.opts.registry.get(assignment.profile) : undefined;
    if (found === undefined) {
      emitProfileEvent(
        this.deps(),
        ep,
        assignment?.profile ?? null,
        assignment ? { type: 'profile-missing', profile: assignment.profile } : { type: 'profile-missing' },
      );
    }
    const profile = found ?? (assignment ? emptyProfile(assignment.profile) : undefined);
    if (profile === undefined) return;
    const previous = previousOf(profile);
    if (found === undefined && previous === undefined) return; // nothing to set up, nothing to undo
    await new DeviceSetup(this.deps(), reg, profile).run(reason, previous);
  }

  private deps(): ConstructorParameters<typeof DeviceSetup>[0] {
    const { publisher, onFailure, convert, now, compositeSeparateTimeoutMs } = this.opts;
    return {
      server: this.pacedServer,
      publisher,
      events: this.events,
      onFailure,
      ...(convert ? { convert } : {}),
      ...(now ? { now } : {}),
      ...(compositeSeparateTimeoutMs !== undefined ? { compositeSeparateTimeoutMs } : {}),
    };
  }

  /** `deferred`: not before the request being handled now has been answered (afterReply). */
  private enqueue(endpoint: string, task: () => Promise<void>, deferred = false): void {
    const prev = this.queues.get(endpoint) ?? Promise.resolve();
    const next: Promise<void> = (deferred ? prev.then(afterReply) : prev)
      .then(() => this.limited(task))
      .catch((err: unknown) => {
        if (isNotRegistered(err)) this.profileOf.delete(endpoint);
        else this.opts.onFailure(err, `setting up ${endpoint}: ${errorMessage(err)}`);
      })
      .finally(() => {
        if (this.queues.get(endpoint) === next) this.queues.delete(endpoint);
      });
    this.queues.set(endpoint, next);
  }

  private async limited(task: () => Promise<void>): Promise<void> {
    const max = this.opts.concurrency ?? 64;
    while (this.running >= max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      await task();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
