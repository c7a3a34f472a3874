/**
 * Test doubles for the profile layer: a device-management fake that answers from a value table,
 * and a Publisher that records what it is given.
 */
import type { NotificationAttributes } from '../../src/lwm2m/attributes';
import type { LwM2mNode } from '../../src/lwm2m/node';
import { formatPath, isPrefixOf, parsePath, type LwM2mPath } from '../../src/lwm2m/path';
import { ServerEvents, type NodesByPath } from '../../src/server/events';
import { resultName, type OperationResult } from '../../src/server/downlink/result';
import type { Registration } from '../../src/server/registration/registration';
import type { Observation } from '../../src/server/observation/observation-store';
import type { DeviceManagement } from '../../src/profile/device-management';
import {
  MemoryCapabilityStore,
  type CapabilityFact,
  type DeviceCapabilities,
} from '../../src/server/capabilities/capability-store';
import type { ProfileEvent } from '../../src/profile/profile-events';
import type { Publisher, ValueBatch } from '../../src/profile/publisher';

const ok = (code: number, extra: Partial<OperationResult> = {}): OperationResult => ({
  code,
  result: resultName(code),
  success: code >> 5 === 2,
  ...extra,
});

export class FakeDevices implements DeviceManagement {
  readonly events = new ServerEvents();
  readonly registrations = new Map<string, Registration>();
  readonly observations: Observation[] = [];
  readonly calls: string[] = [];
  readonly attributes = new Map<string, NotificationAttributes>();
  /** Response codes for composite operations the device lacks (e.g. 0x85 Method Not Allowed). */
  readonly refuse: { readComposite?: number; observeComposite?: number } = {};
  /** What the fake learned of each registration (the server's capability store, in memory). */
  readonly capabilities = new MemoryCapabilityStore();
  private tokens = 0;

  /** Values by path ("/3/0/9"), as the device would answer a Read of exactly that path. */
  constructor(readonly values: Map<string, LwM2mNode>) {}

  async registration(ep: string): Promise<Registration> {
    const reg = this.registrations.get(ep);
    if (reg === undefined)
      throw Object.assign(new Error(`endpoint "${ep}" is not registered`), { code: 'LWM2M_NOT_REGISTERED' });
    return reg;
  }

  capabilitiesOf(reg: Registration): Promise<DeviceCapabilities> {
    return this.capabilities.get(reg);
  }

  async learnCapability(reg: Registration, fact: CapabilityFact): Promise<void> {
    this.calls.push(`learn ${fact.kind === 'lacks' ? fact.operation : fact.format}`);
    await this.capabilities.learn(reg, fact);
  }

  private nodesBelow(paths: readonly LwM2mPath[]): NodesByPath {
    const out: NodesByPath = new Map();
    for (const p of paths) out.set(formatPath(p), this.values.get(formatPath(p)) ?? null);
    return out;
  }

  async read(ep: string, path: LwM2mPath): Promise<OperationResult> {
    await this.registration(ep);
    this.calls.push(`read ${formatPath(path)}`);
    const node = this.values.get(formatPath(path));
    return node ? ok(0x45, { node }) : ok(0x84);
  }

  async readComposite(ep: string, paths: readonly LwM2mPath[]): Promise<OperationResult> {
    await this.registration(ep);
    this.calls.push(`read-composite ${paths.map(formatPath).join(' ')}`);
    if (this.refuse.readComposite !== undefined) return ok(this.refuse.readComposite);
    return ok(0x45, { nodes: this.nodesBelow(paths) });
  }

  async writeAttributes(ep: string, path: LwM2mPath, attributes: NotificationAttributes): Promise<OperationResult> {
    await this.registration(ep);
    this.calls.push(`write-attributes ${formatPath(path)} ${JSON.stringify(attributes)}`);
    this.attributes.set(formatPath(path), attributes);
    return ok(0x44);
  }

  async observe(ep: string, path: LwM2mPath): Promise<OperationResult> {
    const node = this.values.get(formatPath(path));
    const obs = await this.add(ep, 'single', [path]);
    return ok(0x45, { observation: obs, ...(node ? { node } : {}) });
  }

  async observeComposite(ep: string, paths: readonly LwM2mPath[]): Promise<OperationResult> {
    if (this.refuse.observeComposite !== undefined) {
      await this.registration(ep);
      this.calls.push(`observe-composite ${paths.map(formatPath).join(' ')}`);
      return ok(this.refuse.observeComposite);
    }
    const obs = await this.add(ep, 'composite', paths);
    return ok(0x45, { observation: obs, nodes: this.nodesBelow(paths) });
  }

  private async add(ep: string, kind: 'single' | 'composite', paths: readonly LwM2mPath[]): Promise<Observation> {
    const reg = await this.registration(ep);
    this.calls.push(`observe-${kind} ${paths.map(formatPath).join(' ')}`);
    const obs: Observation = {
      token: `t${++this.tokens}`,
      registrationId: reg.id,
      endpoint: ep,
      kind,
      paths: paths.map(formatPath),
      createdAt: 0,
    };
    this.observations.push(obs);
    return obs;
  }

  async cancelObservations(
    ep: string,
    match: { kind: 'single' | 'composite'; paths?: readonly string[] },
  ): Promise<number> {
    const reg = await this.registration(ep);
    const same = (o: Observation): boolean =>
      o.registrationId === reg.id &&
      o.kind === match.kind &&
      (match.paths === undefined ||
        (o.paths.length === match.paths.length && o.paths.every((p) => match.paths?.includes(p))));
    const gone = this.observations.filter(same);
    for (const o of gone) this.observations.splice(this.observations.indexOf(o), 1);
    this.calls.push(`cancel-${match.kind} ${(match.paths ?? []).join(' ')}`);
    return gone.length;
  }

  async listObservations(ep: string): Promise<Observation[]> {
    const reg = await this.registration(ep);
    return this.observations.filter((o) => o.registrationId === reg.id);
  }

  register(reg: Registration): void {
    this.registrations.set(reg.endpoint, reg);
    this.events.emit({ type: 'registered', registration: reg });
  }

  /** A notification of `obs` carrying the table's values at its paths (and below them). */
  notify(obs: Observation, reg: Registration): void {
    const nodes: NodesByPath = new Map();
    for (const [p, n] of this.values)
      if (obs.paths.some((o) => isPrefixOf(parsePath(o), parsePath(p)))) nodes.set(p, n);
    this.events.emit({ type: 'notification', registration: reg, observation: obs, nodes });
  }
}

/** What RecordingPublisher recorded: the batches as given. */
export type PublishedValues = ValueBatch;

export class RecordingPublisher implements Publisher {
  readonly values: PublishedValues[] = [];
  readonly events: Array<{ endpoint: string; profile: string | null; event: ProfileEvent }> = [];
  private waiters: Array<() => boolean> = [];

  async publishValues(batch: ValueBatch): Promise<void> {
    this.push(batch);
  }

  async publishEvent(endpoint: string, profile: string | null, _ts: number, event: ProfileEvent): Promise<void> {
    this.events.push({ endpoint, profile, event });
    this.wake();
  }

  /** Resolves with the first published values (already or later) matching `pred`. */
  waitFor(pred: (v: PublishedValues) => boolean, timeoutMs = 10_000): Promise<PublishedValues> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `no matching record within ${timeoutMs} ms; got ${JSON.stringify(this.values.map((v) => [v.topic, v.source.op, v.values]))}`,
            ),
          ),
        timeoutMs,
      );
      const check = (): boolean => {
        const found = this.values.find(pred);
        if (found === undefined) return false;
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      if (!check()) this.waiters.push(check);
    });
  }

  private push(v: PublishedValues): void {
    this.values.push(v);
    this.wake();
  }

  private wake(): void {
    this.waiters = this.waiters.filter((w) => !w());
  }
}
