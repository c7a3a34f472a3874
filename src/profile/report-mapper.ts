/**
 * Notifications (LwM2M-Core 1.2 §6.4.2) and Send (§6.4.3) → telemetry and attribute records,
 * mapped by the device's profile like the values read at registration. Historical notifications
 * and Send entries with timestamps give one record per timestamp.
 *
 * A device without a profile (none assigned, or the assigned one unknown here) is mapped by the
 * registry's profile named "default" when there is one, else by a built-in mapping that publishes
 * every value under its path with profile null, so that nothing is dropped silently.
 */
import type { LwM2mNode } from '../lwm2m/node';
import type { NodesByPath, ServerEvent, ServerEvents } from '../server/events';
import type { SendEntries } from '../server/send/send-handler';
import type { Registration } from '../server/registration/registration';
import { compileProfile, type CompiledProfile } from './compile';
import type { FailureReporter } from './device-management';
import type { ValueConverter } from './json-value';
import { mapNodes } from './mapping';
import type { ProfileRegistry } from './profile-registry';
import type { Assignment, ProfileAssigner } from './provisioning';
import { publishMapped, type Publisher, type UplinkSource } from './publisher';
import { parseProfile } from './schema';

export const DEFAULT_PROFILE_NAME = 'default';
const BUILT_IN_DEFAULT = compileProfile(
  parseProfile({ name: DEFAULT_PROFILE_NAME, unmappedPaths: 'path' }, 'built-in'),
);

type NotificationEvent = Extract<ServerEvent, { type: 'notification' }>;

export interface ReportMapperOptions {
  readonly registry: ProfileRegistry;
  readonly assigner: ProfileAssigner;
  readonly publisher: Publisher;
  readonly onFailure: FailureReporter;
  readonly convert?: ValueConverter;
  readonly now?: () => number;
}

export class ReportMapper {
  private readonly now: () => number;

  constructor(private readonly opts: ReportMapperOptions) {
    this.now = opts.now ?? Date.now;
  }

  /**
   * Listens to notifications (and to Send events unless `send: false`, for when the server hands
   * Send to `handleSend` as its sink, so that the device is acknowledged only once accepted).
   */
  attach(events: Pick<ServerEvents, 'on'>, options: { readonly send?: boolean } = {}): () => void {
    const withSend = options.send ?? true;
    return events.on((e) => {
      // The error reports capture the endpoint only, not the event: a notification's decoded
      // values are then garbage as soon as they are mapped, not kept until Kafka acknowledges.
      const endpoint = e.type === 'notification' || e.type === 'send' ? e.registration.endpoint : '';
      if (e.type === 'notification')
        this.handleNotification(e).catch((err: unknown) => this.opts.onFailure(err, `notification of ${endpoint}`));
      else if (e.type === 'send' && withSend)
        this.handleSend(e.registration, e.entries).catch((err: unknown) =>
          this.opts.onFailure(err, `Send of ${endpoint}`),
        );
    });
  }

  /**
   * Maps and publishes a notification; settles when the bus has accepted its records. Written
   * without async frames: nothing waits for the acknowledgement but the caller's error report,
   * so at 20,000 notifications/s no suspended frames pile up for the young-generation GC to copy.
   */
  handleNotification(e: NotificationEvent): Promise<void> {
    const profile = this.profileFor(e.registration.endpoint);
    return profile instanceof Promise
      ? profile.then((p) => this.publishNotification(e, p))
      : this.publishNotification(e, profile);
  }

  /** Maps and publishes a Send; rejects when the publisher cannot take the records (the device then gets 5.03). */
  async handleSend(reg: Registration, entries: SendEntries): Promise<void> {
    const profile = await this.profileFor(reg.endpoint);
    await allOf(this.publishSeries(reg, profile, entries, (nodes) => ({ op: 'send', paths: [...nodes.keys()] })));
  }

  private publishNotification(e: NotificationEvent, profile: CompiledProfile): Promise<void> {
    const source: UplinkSource = { op: 'notify', paths: e.observation.paths };
    const series = e.timestamped && e.timestamped.length > 0 ? e.timestamped : [{ nodes: e.nodes }];
    try {
      // An observation an operator asked for by RPC: what the profile would drop goes out as a notification event.
      return allOf(this.publishSeries(e.registration, profile, series, () => source, e.observation.origin === 'rpc'));
    } catch (err) {
      return Promise.reject(err); // a mapping error reaches the caller's report, as a rejection
    }
  }

  /** The device's profile, or the default one. Synchronous on a cache hit. */
  private profileFor(endpoint: string): CompiledProfile | Promise<CompiledProfile> {
    const hit = this.opts.assigner.cached(endpoint);
    if (hit) return this.lookup(hit.value);
    return this.opts.assigner.resolve(endpoint).then((a) => this.lookup(a));
  }

  private lookup(a: Assignment | undefined): CompiledProfile {
    const named = a ? this.opts.registry.get(a.profile) : undefined;
    return named ?? this.opts.registry.get(DEFAULT_PROFILE_NAME) ?? BUILT_IN_DEFAULT;
  }

  /** Starts the publishes of a series; returns them (one per record kind and timestamp). */
  private publishSeries(
    reg: Registration,
    profile: CompiledProfile,
    series: ReadonlyArray<{ readonly timestamp?: number; readonly nodes: NodesByPath }>,
    sourceOf: (nodes: ReadonlyMap<string, LwM2mNode | null>) => UplinkSource,
    keepUnmapped = false,
  ): Promise<void>[] {
    const { publisher } = this.opts;
    const jobs: Promise<void>[] = [];
    const now = this.now();
    for (const entry of series) {
      const mapped = mapNodes(profile, entry.nodes, this.opts.convert, keepUnmapped);
      const ts = entry.timestamp ?? now;
      const source = sourceOf(entry.nodes);
      const name = profile === BUILT_IN_DEFAULT ? null : profile.name;
      jobs.push(...publishMapped(publisher, reg.endpoint, name, ts, source, mapped));
      const unmapped = mapped.unmapped;
      if (unmapped !== undefined && Object.keys(unmapped.values).length > 0) {
        jobs.push(
          publisher.publishEvent(reg.endpoint, name, ts, {
            type: 'notification',
            paths: source.paths,
            values: unmapped.values,
            types: unmapped.types,
          }),
        );
      }
    }
    return jobs;
  }
}

/** Settles once every job has; a single job is returned as it is (no extra promise). */
function allOf(jobs: Promise<void>[]): Promise<void> {
  if (jobs.length === 1) return jobs[0] as Promise<void>;
  return Promise.all(jobs).then(() => undefined);
}
