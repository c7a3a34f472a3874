/**
 * Sets one registered device up under a profile (docs/profiles.md "What happens on registration"):
 * 1. read the attribute and telemetry paths (Read-Composite for 1.1+ clients with several paths,
 *    LwM2M-Core 1.2 §6.3.8; else one Read each, §6.3.1) and publish the values at once, so that
 *    they reach the bus before any newer notification;
 * 2. write the notification attributes (Write-Attributes, §6.3.4); on a re-run only what changed,
 *    and attributes the profile no longer sets are removed (a parameter without value, §5.1.2);
 * 3. hold the observations of the strategy: cancel those the previous plan wanted and the new one
 *    does not, establish the missing ones (§6.4.1), publish their first values.
 * Failures are reported as events and never stop the other steps. A composite operation the device
 * refuses or leaves unanswered is replaced by single-path ones (a capability-fallback event), and
 * remembered for the registration: later setups of it skip composite operations.
 */
import type { NotificationAttributes } from '../lwm2m/attributes';
import { ATTRIBUTE_NAMES } from '../lwm2m/attributes';
import type { LwM2mNode } from '../lwm2m/node';
import { parsePath } from '../lwm2m/path';
import { NO_FACTS, type DeviceCapabilities } from '../server/capabilities/capability-store';
import type { OperationResult } from '../server/downlink/result';
import type { Registration } from '../server/registration/registration';
import { canonicalJson, type CompiledProfile } from './compile';
import { errorMessage } from '../common/error-message';
import { BridgeError } from '../common/errors';
import { isNotRegistered, type DeviceManagement, type FailureReporter } from './device-management';
import type { ValueConverter } from './json-value';
import { isEmptyMapping, mapNodes } from './mapping';
import { observationKey, planSetup, type ObservationSpec, type SetupPlan } from './plan';
import type { ApplyReason, ProfileEvent, ProfileEvents } from './profile-events';
import { publishMapped, type Publisher, type UplinkSource } from './publisher';

export interface SetupDeps {
  readonly server: DeviceManagement;
  readonly publisher: Publisher;
  readonly events: ProfileEvents;
  readonly onFailure: FailureReporter;
  readonly convert?: ValueConverter;
  readonly now?: () => number;
  /** After an empty ACK to a composite operation, how long its response may take before falling back. */
  readonly compositeSeparateTimeoutMs?: number;
}

/** What was in force before, to diff against: the previous profile and/or registration. */
export interface PreviousSetup {
  readonly profile: CompiledProfile;
  readonly registration: Registration;
}

class Superseded extends Error {}

export class DeviceSetup {
  private readonly ep: string;
  private readonly now: () => number;
  /** False once a composite operation failed: the rest of this setup goes path by path. */
  private composite = true;

  constructor(
    private readonly deps: SetupDeps,
    private readonly reg: Registration,
    private readonly profile: CompiledProfile,
  ) {
    this.ep = reg.endpoint;
    this.now = deps.now ?? Date.now;
  }

  async run(reason: ApplyReason, previous?: PreviousSetup): Promise<void> {
    const plan = planSetup(this.profile, this.reg);
    // A device that failed a composite operation earlier in this registration (on any instance)
    // is set up path by path at once: its fallback was reported then.
    if (plan.reads.composite || plan.observations.some((o) => o.kind === 'composite'))
      this.composite = (await this.knownCapabilities()).lacking.size === 0;
    const before = previous ? planSetup(previous.profile, previous.registration) : undefined;
    if (plan.skipped.length > 0) this.emit({ type: 'paths-skipped', paths: plan.skipped });
    if (plan.versionMismatches.length > 0) this.emit({ type: 'version-mismatch', mismatches: plan.versionMismatches });
    try {
      const read = await this.readAll(plan);
      const attributesWritten = await this.writeAttributes(plan, before);
      const obs = await this.observe(plan, before);
      this.emit({ type: 'profile-applied', reason, strategy: plan.strategy, read, attributesWritten, ...obs }, false);
    } catch (err) {
      if (err instanceof Superseded || isNotRegistered(err)) return; // a newer registration has its own setup
      throw err;
    }
  }

  private async current(): Promise<void> {
    const reg = await this.deps.server.registration(this.ep);
    if (reg.id !== this.reg.id) throw new Superseded();
  }

  private async readAll(plan: SetupPlan): Promise<number> {
    const { composite, paths } = plan.reads;
    if (paths.length === 0) return 0;
    await this.current();
    if (composite && this.composite) {
      const r = await this.attempt(() => this.deps.server.readComposite(this.ep, paths.map(parsePath), this.probe()));
      if (r.result?.success && r.result.nodes) {
        await this.publish(r.result.nodes, { op: 'read', paths });
        return paths.length;
      }
      // Some clients lack Read-Composite (4.04, 4.05, 4.06, 4.15, 5.01, or an empty ACK and silence):
      // one Read per path, and no more composite operations in this setup.
      await this.fallBack('Read-Composite', paths, r);
    }
    let read = 0;
    for (const path of paths) {
      const r = await this.attempt(() => this.deps.server.read(this.ep, parsePath(path)));
      if (r.result?.success && r.result.node) {
        read++;
        await this.publish([[path, r.result.node]], { op: 'read', paths: [path] });
      } else this.emit({ type: 'read-failed', paths: [path], ...failure(r) });
    }
    return read;
  }

  private async writeAttributes(plan: SetupPlan, before: SetupPlan | undefined): Promise<number> {
    const writes = attributeWrites(plan, before);
    if (writes.length > 0) await this.current();
    let written = 0;
    for (const { path, attributes } of writes) {
      const r = await this.attempt(() => this.deps.server.writeAttributes(this.ep, parsePath(path), attributes));
      if (r.result?.success) written++;
      else this.emit({ type: 'write-attributes-failed', path, ...failure(r) });
    }
    return written;
  }

  private async observe(
    plan: SetupPlan,
    before: SetupPlan | undefined,
  ): Promise<{ observationsEstablished: number; observationsKept: number; observationsCancelled: number }> {
    await this.current();
    const existing = await this.deps.server.listObservations(this.ep);
    const existingKeys = new Set(existing.map(observationKey));
    const wantedKeys = new Set(plan.observations.map(observationKey));
    const unwanted = new Set((before?.observations ?? []).map(observationKey).filter((k) => !wantedKeys.has(k)));
    let cancelled = 0;
    for (const obs of existing) {
      if (!unwanted.has(observationKey(obs))) continue;
      unwanted.delete(observationKey(obs)); // cancelObservations ends every match at once
      try {
        cancelled += await this.deps.server.cancelObservations(this.ep, { kind: obs.kind, paths: obs.paths }, 'active');
      } catch (err) {
        if (isNotRegistered(err)) throw err;
        this.deps.onFailure(err, `cancelling observation ${obs.paths.join(',')} of ${this.ep}`);
      }
    }
    let established = 0;
    let kept = 0;
    // A composite observation the device lacks becomes one single observation per path, in its place.
    const pending = [...plan.observations];
    for (let spec = pending.shift(); spec !== undefined; spec = pending.shift()) {
      if (existingKeys.has(observationKey(spec))) kept++;
      else if (spec.kind === 'composite' && !this.composite) pending.unshift(...singles(spec));
      else {
        const outcome = await this.establish(spec);
        if (outcome === 'established') established++;
        else if (outcome === 'lacking') pending.unshift(...singles(spec));
      }
    }
    return { observationsEstablished: established, observationsKept: kept, observationsCancelled: cancelled };
  }

  /** `lacking`: an Observe-Composite the device refused or left unanswered (said once, in an event). */
  private async establish(spec: ObservationSpec): Promise<'established' | 'failed' | 'lacking'> {
    const single = spec.kind === 'single';
    const r = await this.attempt(() =>
      single
        ? this.deps.server.observe(this.ep, parsePath(spec.paths[0] as string))
        : this.deps.server.observeComposite(this.ep, spec.paths.map(parsePath), this.probe()),
    );
    const obs = r.result?.observation;
    if (!single && !r.result?.success) {
      // Observe-Composite refused or unanswered: one Observe per path (LwM2M-Core 1.2 §6.4.1).
      await this.fallBack('Observe-Composite', spec.paths, r);
      return 'lacking';
    }
    if (!r.result?.success || obs === undefined) {
      const reason = r.result?.success
        ? { result: r.result.result, error: 'the response carried no Observe option: not observable (RFC 7641 §3.2)' }
        : failure(r);
      this.emit({ type: 'observe-failed', kind: spec.kind, paths: spec.paths, ...reason });
      return 'failed';
    }
    const nodes: Iterable<readonly [string, LwM2mNode | null | undefined]> = single
      ? [[spec.paths[0] as string, r.result.node]]
      : (r.result.nodes ?? []);
    await this.publish(nodes, { op: 'observe', paths: spec.paths });
    return 'established';
  }

  /**
   * The device lacks a composite operation: said once, not tried again in this setup, and
   * remembered for the registration (server/capabilities/) so that later setups, here or on
   * another instance, go path by path at once.
   */
  private async fallBack(
    operation: 'Read-Composite' | 'Observe-Composite',
    paths: readonly string[],
    r: Attempt,
  ): Promise<void> {
    this.composite = false;
    this.emit({ type: 'capability-fallback', operation, paths, ...failure(r) });
    try {
      await this.deps.server.learnCapability(this.reg, { kind: 'lacks', operation });
    } catch (err) {
      this.deps.onFailure(err, `recording that ${this.ep} lacks ${operation}`);
    }
  }

  /** Request options of a composite operation: a short wait after an empty ACK (it may never be answered). */
  private probe(): { separateTimeoutMs?: number } {
    const ms = this.deps.compositeSeparateTimeoutMs;
    return ms !== undefined ? { separateTimeoutMs: ms } : {};
  }

  private async knownCapabilities(): Promise<DeviceCapabilities> {
    try {
      return await this.deps.server.capabilitiesOf(this.reg);
    } catch (err) {
      this.deps.onFailure(err, `reading what ${this.ep} lacks`);
      return NO_FACTS;
    }
  }

  /** Runs an operation; a thrown error becomes a failed result (except "not registered": the setup ends). */
  private async attempt(op: () => Promise<OperationResult>): Promise<Attempt> {
    try {
      return { result: await op() };
    } catch (err) {
      if (isNotRegistered(err)) throw err;
      // Unanswered (retransmissions spent, or an empty ACK and no response in time): named TIMEOUT.
      const timedOut = err instanceof BridgeError && err.code === 'COAP_TIMEOUT';
      return timedOut ? { timedOut, error: errorMessage(err) } : { error: errorMessage(err) };
    }
  }

  private async publish(
    nodes: Iterable<readonly [string, LwM2mNode | null | undefined]>,
    source: UplinkSource,
  ): Promise<void> {
    const mapped = mapNodes(this.profile, nodes, this.deps.convert);
    if (isEmptyMapping(mapped)) return;
    const ts = this.now();
    const { publisher } = this.deps;
    const jobs = publishMapped(publisher, this.ep, this.profile.name, ts, source, mapped);
    for (const outcome of await Promise.allSettled(jobs)) {
      if (outcome.status === 'rejected')
        this.deps.onFailure(outcome.reason, `publishing ${source.op} values of ${this.ep}`);
    }
  }

  private emit(event: ProfileEvent, publish = true): void {
    emitProfileEvent(this.deps, this.ep, this.profile.name, event, publish);
  }
}

/** Tells listeners and (unless `publish` is false) the events topic. */
export function emitProfileEvent(
  deps: Pick<SetupDeps, 'events' | 'publisher' | 'onFailure' | 'now'>,
  ep: string,
  profile: string | null,
  event: ProfileEvent,
  publish = true,
): void {
  try {
    deps.events.emit(ep, profile, event);
  } catch (err) {
    deps.onFailure(err, `profile event listener (${event.type})`);
  }
  if (!publish) return;
  deps.publisher
    .publishEvent(ep, profile, (deps.now ?? Date.now)(), event)
    .catch((err: unknown) => deps.onFailure(err, `publishing ${event.type} event of ${ep}`));
}

/** The single observations that stand in for a composite one. */
function singles(spec: ObservationSpec): ObservationSpec[] {
  return spec.paths.map((path) => ({ kind: 'single', paths: [path] }));
}

/** How a setup operation ended: a response, or an error (`timedOut`: the device did not answer). */
interface Attempt {
  readonly result?: OperationResult;
  readonly error?: string;
  readonly timedOut?: boolean;
}

function failure(r: Attempt): { result?: string; error?: string } {
  if (r.result) return { result: r.result.result, ...(r.result.error !== undefined ? { error: r.result.error } : {}) };
  return { ...(r.timedOut === true ? { result: 'TIMEOUT' } : {}), error: r.error ?? 'unknown error' };
}

/** Attribute writes: all on a first setup; on a re-run, changed paths, with removed names unset. */
export function attributeWrites(
  plan: SetupPlan,
  before: SetupPlan | undefined,
): Array<{ path: string; attributes: NotificationAttributes }> {
  if (before === undefined) return plan.attributes.map((a) => ({ path: a.path, attributes: a.attributes }));
  const old = new Map(before.attributes.map((a) => [a.path, a.attributes]));
  const out: Array<{ path: string; attributes: NotificationAttributes }> = [];
  for (const { path, attributes } of plan.attributes) {
    const prev = old.get(path);
    old.delete(path);
    if (prev !== undefined && canonicalJson(prev) === canonicalJson(attributes)) continue;
    out.push({ path, attributes: { ...unset(prev), ...attributes } });
  }
  const skipped = new Set(plan.skipped.map((s) => s.path));
  for (const [path, prev] of old) {
    if (skipped.has(path)) continue; // no longer announced by the device
    const attributes = unset(prev);
    if (Object.keys(attributes).length > 0) out.push({ path, attributes });
  }
  return out;
}

function unset(attrs: NotificationAttributes | undefined): NotificationAttributes {
  const out: Record<string, null> = {};
  if (attrs === undefined) return out;
  for (const name of ATTRIBUTE_NAMES) if (attrs[name] !== undefined && attrs[name] !== null) out[name] = null;
  return out;
}
