/**
 * The device fleet of the cluster test, run as a child process inside the devices' network
 * namespace (behind the test NAT): it opens and registers the devices, runs their Send load,
 * answers the bridge's downlinks, and reports counters over the IPC channel (./fleet-protocol.ts).
 */
import { FleetDevice } from './fleet-device';
import {
  fleetKey,
  type FleetCommand,
  type FleetConfig,
  type FleetCounters,
  type FleetReply,
  type FleetStats,
} from './fleet-protocol';
import { errorMessage } from '../../src/common/error-message';

const counters: FleetCounters = {
  devices: 0,
  registered: 0,
  reregistrations: 0,
  handshakes: 0,
  updates: 0,
  sendsSent: 0,
  sendsAcked: 0,
  sendsRefused: 0,
  sendsTimedOut: 0,
  sendsOther: {},
  retransmissions: 0,
  downlinks: 0,
  wrongSource: 0,
  unexpected: [],
};
const devices = new Map<string, FleetDevice>();
let load = false;
let interval = 5000;

async function open(config: FleetConfig): Promise<void> {
  interval = config.sendIntervalMs;
  const setups = [
    ...Array.from({ length: config.plain }, (_, i) => ({
      endpoint: `${config.prefix}p${i}`,
      port: 5683,
      psk: undefined,
      queueMode: config.queueEvery > 0 && i % config.queueEvery === 0,
    })),
    ...Array.from({ length: config.dtls }, (_, i) => ({
      endpoint: `${config.prefix}s${i}`,
      port: 5684,
      psk: fleetKey(`${config.prefix}s${i}`),
      queueMode: config.queueEvery > 0 && i % config.queueEvery === 0,
    })),
  ];
  // A bounded number at a time, as devices of a fleet come up.
  for (let i = 0; i < setups.length; i += 100) {
    await Promise.all(
      setups.slice(i, i + 100).map(async (s) => {
        const d = new FleetDevice(
          {
            endpoint: s.endpoint,
            vip: config.vip,
            port: s.port,
            queueMode: s.queueMode,
            lifetimeS: config.lifetimeS,
            ...(s.psk !== undefined ? { psk: s.psk } : {}),
          },
          counters,
        );
        await d.open();
        devices.set(s.endpoint, d);
        counters.devices++;
        for (let attempt = 0; attempt < 3 && !(await d.register()); attempt++);
      }),
    );
  }
}

function stats(): FleetStats {
  const acked: Record<string, number[]> = {};
  for (const [ep, d] of devices) acked[ep] = [...d.acked];
  return { counters: structuredClone(counters), acked };
}

async function settle(timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while ([...devices.values()].some((d) => d.busy) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
}

setInterval(() => {
  const now = Date.now();
  for (const d of devices.values()) {
    d.tick(now);
    if (!load || d.busy || d.held || now < d.nextSendAt) continue;
    d.nextSendAt = now + interval * (0.75 + Math.random() / 2);
    d.send();
  }
}, 50);

async function handle(m: FleetCommand): Promise<FleetReply> {
  switch (m.cmd) {
    case 'open':
      await open(m.config);
      return { id: m.id, ok: true, stats: stats() };
    case 'load':
      load = m.on;
      if (load) for (const d of devices.values()) d.nextSendAt = Date.now() + Math.random() * interval;
      return { id: m.id, ok: true };
    case 'hold': {
      const held = m.endpoints.map((ep) => devices.get(ep)).filter((d): d is FleetDevice => d !== undefined);
      for (const d of held) d.held = true;
      const until = Date.now() + 30_000;
      while (held.some((d) => d.busy) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      return { id: m.id, ok: true };
    }
    case 'update':
      await Promise.all(m.endpoints.map((ep) => devices.get(ep)?.update()));
      return { id: m.id, ok: true, stats: stats() };
    case 'ports':
      return {
        id: m.id,
        ok: true,
        ports: Object.fromEntries(m.endpoints.map((ep) => [ep, devices.get(ep)?.localPort ?? 0])),
      };
    case 'settle':
      await settle(m.timeoutMs);
      return { id: m.id, ok: true, stats: stats() };
    case 'stats':
      return { id: m.id, ok: true, stats: stats() };
  }
}

process.on('message', (m: FleetCommand) => {
  handle(m).then(
    (reply) => process.send?.(reply),
    (err: unknown) => process.send?.({ id: m.id, ok: false, error: errorMessage(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
