/**
 * The failover scenarios of issue 12 (and DESIGN's last target): under load from a device fleet
 * behind a NAT and a real Leshan client, a bridge deployment of 3 instances behind a
 * kube-proxy-style UDP load balancer goes through
 *   1. steady state, 2. kill -9 of one instance, 3. a rolling restart of all, 4. NAT rebinding
 *   of devices mid-session, 5. Redis, then Kafka, unavailable for `outageMs`,
 * and each phase counts what must stay zero: re-registrations, new DTLS handshakes, acknowledged
 * uplinks missing from Kafka, RPCs without exactly one response, downlinks not from the VIP.
 * Used by test/cluster/failover.test.ts and bench/failover.ts.
 */
import Redis from 'ioredis';
import { RedisKeys } from '../../src/store/keys';
import { startLeshanClient, type LeshanClientHandle } from '../support/leshan-client';
import { NAT_PUBLIC_IP, VIP } from '../support/netns/lb-network';
import { type Cluster } from './cluster';
import { Fleet } from './fleet';
import { fleetKey, type FleetCounters, type FleetStats } from './fleet-protocol';
import { errorMessage } from '../../src/common/error-message';

export interface FailoverParams {
  readonly plain: number;
  readonly dtls: number;
  readonly queueEvery: number;
  readonly sendIntervalMs: number;
  readonly phaseMs: number;
  readonly outageMs: number;
  readonly rpcsPerPhase: number;
  readonly rebindDevices: number;
}

export const DEFAULT_PARAMS: FailoverParams = {
  plain: 1500,
  dtls: 500,
  queueEvery: 10,
  sendIntervalMs: 10_000,
  phaseMs: 15_000,
  outageMs: 30_000,
  rpcsPerPhase: 40,
  rebindDevices: 10,
};

export interface RpcCounts {
  sent: number;
  answered: number;
  /** Requests answered more than once (response records that differ): the target is 0. */
  duplicated: number;
  /** Requests whose one response Kafka delivered more than once (identical records: at least once, consumers deduplicate by id). */
  redelivered: number;
  unanswered: number;
  byResult: Record<string, number>;
}

export interface PhaseReport {
  readonly phase: string;
  readonly durationMs: number;
  readonly uplinks: {
    sent: number;
    acknowledged: number;
    refused503: number;
    timedOut: number;
    other: Record<string, number>;
    acknowledgedMissingFromKafka: number;
  };
  readonly reregistrations: number;
  readonly newHandshakes: number;
  readonly retransmissions: number;
  readonly downlinks: number;
  readonly downlinksNotFromVip: number;
  readonly rpcs: RpcCounts;
  readonly leshan: { notificationsOnKafka: number; registrations: number };
  /** Answers the devices did not expect, and RPCs not answered CONTENT: what to look at when a count is not zero. */
  readonly unexpected: string[];
  readonly note?: string;
}

export interface FailoverReport {
  readonly devices: { plain: number; dtls: number; queueMode: number; leshan: number };
  readonly registered: number;
  readonly phases: PhaseReport[];
  readonly totals: {
    uplinksSent: number;
    uplinksAcknowledged: number;
    uplinksOnKafka: number;
    acknowledgedLost: number;
    reregistrations: number;
    handshakes: number;
    rpcsSent: number;
    rpcsAnswered: number;
    rpcsDuplicated: number;
    rpcsRedelivered: number;
    rpcsUnanswered: number;
    downlinksNotFromVip: number;
  };
}

type Log = (line: string) => void;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function diff(a: FleetCounters, b: FleetCounters): FleetCounters {
  const other: Record<string, number> = {};
  for (const [k, v] of Object.entries(b.sendsOther))
    if (v - (a.sendsOther[k] ?? 0) > 0) other[k] = v - (a.sendsOther[k] ?? 0);
  const out = { ...b, sendsOther: other };
  for (const k of Object.keys(b) as (keyof FleetCounters)[])
    if (k !== 'sendsOther' && k !== 'unexpected') (out[k] as number) = (b[k] as number) - (a[k] as number);
  out.unexpected = b.unexpected.slice(a.unexpected.length);
  return out;
}

export class FailoverRun {
  private fleet!: Fleet;
  private leshan: LeshanClientHandle | undefined;
  private readonly rpcIds = new Map<string, string[]>();
  /** What was found when a device got 4.04 to a Send (taken into the phase report). */
  private notices: string[] = [];
  /** Each RPC's device and when it was sent, for diagnostics. */
  private readonly rpcTargets = new Map<string, string>();
  private endpoints: string[] = [];
  readonly phases: PhaseReport[] = [];
  /** The fleet's state when each phase began (parallel to `phases`). */
  private readonly snapshots: FleetStats[] = [];
  private opened!: FleetStats;

  constructor(
    readonly cluster: Cluster,
    readonly p: FailoverParams,
    private readonly log: Log,
  ) {}

  async setUp(instances = 3): Promise<void> {
    const c = this.cluster;
    const fleetPrefix = `${c.prefix.replace(/\.$/, '')}-`;
    const dtlsEndpoints = Array.from({ length: this.p.dtls }, (_, i) => `${fleetPrefix}s${i}`);
    await c.provisionPsk(dtlsEndpoints, fleetKey);
    for (let i = 0; i < instances; i++) await c.addInstance();
    this.log(`${instances} instances ready behind ${VIP}`);
    this.fleet = Fleet.start(c.net.devNs);
    this.fleet.onNotice = (n) =>
      void this.lookAt(n.endpoint, n.localPort).then((line) =>
        this.notices.push(`${new Date(n.at).toISOString()} ${line}`),
      );
    const started = Date.now();
    this.opened = await this.fleet.open({
      vip: VIP,
      plain: this.p.plain,
      dtls: this.p.dtls,
      queueEvery: this.p.queueEvery,
      prefix: fleetPrefix,
      sendIntervalMs: this.p.sendIntervalMs,
      lifetimeS: 3600,
    });
    this.endpoints = Object.keys(this.opened.acked);
    this.log(
      `${this.opened.counters.registered}/${this.opened.counters.devices} devices registered (${this.opened.counters.handshakes} DTLS handshakes) in ${Date.now() - started} ms`,
    );
    this.leshan = await startLeshanClient({
      serverPort: 5683,
      host: VIP,
      endpoint: `leshan-${c.run}`,
      lifetime: 3600,
      tickMs: 1000,
      netns: c.net.devNs,
    });
    await this.leshan.waitFor(/^REGISTERED /, 30_000);
    await c.records.waitFor(
      (r) => r.topic.endsWith('events') && r.value.type === 'registered' && r.value.endpoint === `leshan-${c.run}`,
      30_000,
      'the Leshan registration event',
    );
    await this.fleet.load(true);
  }

  /** Sends `n` RPC Reads to devices picked across the fleet, spread over `overMs`. */
  private async rpcs(phase: string, n: number, overMs: number, targets = this.endpoints): Promise<void> {
    const ids: string[] = this.rpcIds.get(phase) ?? [];
    this.rpcIds.set(phase, ids);
    for (let i = 0; i < n; i++) {
      const endpoint = targets[Math.floor(Math.random() * targets.length)] as string;
      const id = await this.cluster.rpc(endpoint, 'Read', { id: '/3303/0/5700' });
      this.rpcTargets.set(id, `${endpoint} at ${new Date().toISOString()}`);
      ids.push(id);
      await sleep(overMs / n);
    }
  }

  private leshanNotifications(): number {
    const ep = `leshan-${this.cluster.run}`;
    return this.cluster.records.records.filter((r) => r.topic.endsWith('telemetry') && r.value.endpoint === ep).length;
  }

  private registrationsOnKafka(endpoint?: string): number {
    return this.cluster.records.records.filter(
      (r) =>
        r.topic.endsWith('events') &&
        r.value.type === 'registered' &&
        (endpoint === undefined || r.value.endpoint === endpoint),
    ).length;
  }

  /** Runs one phase: `during` happens while the load and the phase's RPCs run. */
  async phase(name: string, during: () => Promise<string | void>): Promise<PhaseReport> {
    const started = Date.now();
    const before = await this.fleet.stats();
    const leshanBefore = this.leshanNotifications();
    const leshanRegsBefore = this.registrationsOnKafka(`leshan-${this.cluster.run}`);
    this.log(`phase ${name}`);
    const [note] = await Promise.all([during(), this.rpcs(name, this.p.rpcsPerPhase, this.p.phaseMs)]);
    const after = await this.fleet.stats();
    const d = diff(before.counters, after.counters);
    const report: PhaseReport = {
      phase: name,
      durationMs: Date.now() - started,
      uplinks: {
        sent: d.sendsSent,
        acknowledged: d.sendsAcked,
        refused503: d.sendsRefused,
        timedOut: d.sendsTimedOut,
        other: d.sendsOther,
        acknowledgedMissingFromKafka: -1,
      },
      reregistrations: d.reregistrations,
      newHandshakes: d.handshakes,
      retransmissions: d.retransmissions,
      downlinks: d.downlinks,
      downlinksNotFromVip: d.wrongSource,
      rpcs: { sent: 0, answered: 0, duplicated: 0, redelivered: 0, unanswered: 0, byResult: {} },
      leshan: {
        notificationsOnKafka: this.leshanNotifications() - leshanBefore,
        registrations: this.registrationsOnKafka(`leshan-${this.cluster.run}`) - leshanRegsBefore,
      },
      unexpected: d.unexpected,
      ...(typeof note === 'string' ? { note } : {}),
    };
    report.unexpected.push(...this.notices.splice(0));
    this.phases.push(report);
    this.snapshots.push(before);
    this.log(`  ${JSON.stringify(report)}`);
    return report;
  }

  /**
   * A device got 4.04 to a Send: its public address now (the NAT's mapping), its registration in
   * Redis, and what the address index holds there.
   */
  private async lookAt(endpoint: string, localPort: number): Promise<string> {
    const redis = new Redis(this.cluster.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      const publicPort = this.cluster.net.publicPort(localPort);
      await redis.connect();
      const keys = new RedisKeys(`cl-${this.cluster.run}`);
      const [address, port, id] = await redis.hmget(keys.registrationByEndpoint(endpoint), 'a', 'p', 'id');
      const atRegistration =
        address === null || port === null ? null : await redis.get(keys.endpointByAddress(address, Number(port)));
      const atPublic =
        publicPort === undefined ? null : await redis.get(keys.endpointByAddress(NAT_PUBLIC_IP, publicPort));
      const flows = publicPort === undefined ? [] : this.cluster.net.nodeFlows(publicPort);
      return `not found: ${endpoint} sends from ${NAT_PUBLIC_IP}:${publicPort}; registration ${id} at ${address}:${port} (index there: ${atRegistration}); index at the public port: ${atPublic}; node flows: ${flows.join(' | ')}`;
    } catch (err) {
      return `not found: ${endpoint}: could not look (${errorMessage(err)})`;
    } finally {
      redis.disconnect();
    }
  }

  steady(): Promise<PhaseReport> {
    return this.phase('steady', async () => sleep(this.p.phaseMs));
  }

  kill(): Promise<PhaseReport> {
    return this.phase('kill -9', async () => {
      await sleep(this.p.phaseMs / 4);
      const victim = this.cluster.instances[0];
      if (victim === undefined) throw new Error('no instance to kill');
      const flows = await this.cluster.kill(victim);
      await sleep(this.p.phaseMs / 2);
      const replacement = await this.cluster.addInstance();
      return `killed ${victim.pod.name} (${flows} flows moved); ${replacement.pod.name} replaced it`;
    });
  }

  roll(): Promise<PhaseReport> {
    return this.phase('rolling restart', async () => {
      const old = [...this.cluster.instances];
      const exits: string[] = [];
      for (const instance of old) {
        // maxSurge 1, maxUnavailable 0: the new pod is ready before the old one goes.
        const fresh = await this.cluster.addInstance();
        const code = await this.cluster.terminate(instance);
        exits.push(`${instance.pod.name} → ${fresh.pod.name} (exit ${code})`);
        await sleep(this.p.phaseMs / 4);
      }
      return exits.join(', ');
    });
  }

  rebind(): Promise<PhaseReport> {
    return this.phase('NAT rebinding', async () => {
      const plain = this.endpoints.filter((e) => /-p\d+$/.test(e)).slice(0, this.p.rebindDevices);
      const dtls = this.endpoints.filter((e) => /-s\d+$/.test(e)).slice(0, this.p.rebindDevices);
      // A plain device's NAT rebinding shows at its next Update (its registration is found by
      // location there, by address elsewhere): a device whose mapping changed sends one first.
      // A DTLS device with a connection ID needs none, and keeps sending throughout.
      await this.fleet.hold(plain);
      const ports = await this.fleet.ports([...plain, ...dtls]);
      const dropped = this.cluster.net.rebind(Object.values(ports));
      await this.fleet.update(plain);
      await this.rpcs('NAT rebinding', this.p.rebindDevices, 2000, [...plain, ...dtls]);
      await sleep(this.p.phaseMs / 2);
      return `${dropped} NAT mappings of ${plain.length} plain and ${dtls.length} DTLS devices dropped`;
    });
  }

  outage(which: 'redis' | 'kafka'): Promise<PhaseReport> {
    return this.phase(`${which} unavailable ${this.p.outageMs / 1000} s`, async () => {
      const server = which === 'redis' ? this.cluster.redis : this.cluster.kafka;
      server.pause();
      await sleep(this.p.outageMs);
      server.resume();
      await sleep(this.p.phaseMs);
      return `${which} paused (SIGSTOP) for ${this.p.outageMs} ms`;
    });
  }

  /** Stops the load, lets every request finish, then matches Kafka against what was acknowledged. */
  async finish(): Promise<FailoverReport> {
    await this.fleet.load(false);
    const final = await this.fleet.settle(60_000);
    // Every acknowledged value must be on Kafka: wait (bounded) until they all are.
    const onKafka = (): Map<string, Set<number>> => {
      const m = new Map<string, Set<number>>();
      for (const r of this.cluster.records.records) {
        if (!r.topic.endsWith('telemetry')) continue;
        const values = r.value.values as Record<string, unknown> | undefined;
        const v = values?.['/3303/0/5700'];
        if (typeof v !== 'number') continue;
        const ep = String(r.value.endpoint);
        m.set(ep, (m.get(ep) ?? new Set()).add(v));
      }
      return m;
    };
    const missing = (acked: Record<string, number[]>, seen: Map<string, Set<number>>): number =>
      Object.entries(acked).reduce((n, [ep, vs]) => n + vs.filter((v) => !(seen.get(ep)?.has(v) ?? false)).length, 0);
    let seen = onKafka();
    for (let waited = 0; missing(final.acked, seen) > 0 && waited < 60_000; waited += 500) {
      await sleep(500);
      seen = onKafka();
    }
    // Every RPC must get exactly one response: wait (bounded by their deadline) for the last ones.
    const allIds = [...this.rpcIds.values()].flat();
    /** Response records per id, as "result@ts by instance": a Kafka redelivery repeats one exactly. */
    const responses = (): Map<string, string[]> => {
      const m = new Map<string, string[]>();
      for (const r of this.cluster.records.records) {
        if (!r.topic.endsWith('rpc.responses')) continue;
        const id = String(r.value.id);
        m.set(id, [
          ...(m.get(id) ?? []),
          `${String(r.value.result)}@${String(r.value.ts)} by ${r.headers['instance-id'] ?? '?'}`,
        ]);
      }
      return m;
    };
    const detail = (id: string): string => {
      const r = this.cluster.records.records.find((x) => x.topic.endsWith('rpc.responses') && x.value.id === id);
      const target = this.rpcTargets.get(id);
      const events = this.cluster.records.records
        .filter((x) => x.topic.endsWith('events') && (x.value.detail as { rpcId?: string } | undefined)?.rpcId === id)
        .map((x) => `${String(x.value.type)}@${String(x.value.ts)} by ${x.headers['instance-id'] ?? '?'}`);
      return `rpc ${id} to ${target} ${String(r?.value.result)} ${String(r?.value.error ?? '')}; responses ${JSON.stringify(responses().get(id))}; events ${events.join(', ')}`;
    };
    for (let waited = 0; allIds.some((id) => !responses().has(id)) && waited < 100_000; waited += 1000)
      await sleep(1000);
    await sleep(2000); // a duplicate would come right after its first
    const res = responses();
    this.phases.forEach((phase, idx) => {
      const from = (this.snapshots[idx] as FleetStats).acked;
      const to = this.snapshots[idx + 1]?.acked ?? final.acked;
      const inPhase: Record<string, number[]> = {};
      for (const [ep, vs] of Object.entries(to)) inPhase[ep] = vs.slice(from[ep]?.length ?? 0);
      phase.uplinks.acknowledgedMissingFromKafka = missing(inPhase, seen);
      const ids = this.rpcIds.get(phase.phase) ?? [];
      const counts: RpcCounts = {
        sent: ids.length,
        answered: 0,
        duplicated: 0,
        redelivered: 0,
        unanswered: 0,
        byResult: {},
      };
      for (const id of ids) {
        const r = res.get(id);
        if (r === undefined) {
          counts.unanswered++;
          phase.unexpected.push(`unanswered ${detail(id)}`);
        } else {
          counts.answered++;
          const distinct = new Set(r);
          if (distinct.size > 1) counts.duplicated++;
          if (r.length > distinct.size) counts.redelivered++;
          if (distinct.size > 1 || r.length > distinct.size || !(r[0] as string).startsWith('CONTENT@'))
            phase.unexpected.push(detail(id));
          const result = (r[0] as string).split('@')[0] as string;
          counts.byResult[result] = (counts.byResult[result] ?? 0) + 1;
        }
      }
      Object.assign(phase.rpcs, counts);
    });
    const c = final.counters;
    const acknowledged = Object.values(final.acked).reduce((n, v) => n + v.length, 0);
    const lost = missing(final.acked, seen);
    const rpcs = this.phases.map((p) => p.rpcs);
    return {
      devices: {
        plain: this.p.plain,
        dtls: this.p.dtls,
        queueMode:
          this.p.queueEvery > 0
            ? Math.ceil(this.p.plain / this.p.queueEvery) + Math.ceil(this.p.dtls / this.p.queueEvery)
            : 0,
        leshan: 1,
      },
      registered: this.opened.counters.registered,
      phases: this.phases,
      totals: {
        uplinksSent: c.sendsSent,
        uplinksAcknowledged: acknowledged,
        uplinksOnKafka: acknowledged - lost,
        acknowledgedLost: lost,
        reregistrations: c.reregistrations + Math.max(0, this.registrationsOnKafka() - c.registered - 1),
        handshakes: c.handshakes,
        rpcsSent: rpcs.reduce((n, r) => n + r.sent, 0),
        rpcsAnswered: rpcs.reduce((n, r) => n + r.answered, 0),
        rpcsDuplicated: rpcs.reduce((n, r) => n + r.duplicated, 0),
        rpcsRedelivered: rpcs.reduce((n, r) => n + r.redelivered, 0),
        rpcsUnanswered: rpcs.reduce((n, r) => n + r.unanswered, 0),
        downlinksNotFromVip: c.wrongSource,
      },
    };
  }

  async stop(): Promise<void> {
    this.fleet?.stop();
    await this.leshan?.stop();
  }
}
