/**
 * The bridge behind a kube-proxy-style UDP load balancer while instances die and roll
 * (./failover.ts): 3 instances in pod namespaces, 2,000 scripted devices (plain and DTLS PSK
 * with connection IDs, every tenth in queue mode) and a real Leshan client behind a NAT, real
 * Redis and Kafka. Each phase must keep the zeros: no re-registration, no new DTLS handshake, no
 * acknowledged uplink missing from Kafka, every RPC answered exactly once, every downlink from
 * the VIP. The counts are printed; bench:failover writes them to bench/results/.
 */
import { Cluster } from './cluster';
import { DEFAULT_PARAMS, FailoverRun, type PhaseReport } from './failover';

jest.setTimeout(900_000);

let cluster: Cluster | undefined;
let run: FailoverRun | undefined;
const log = (line: string): void => void process.stdout.write(`[cluster] ${line}\n`);

beforeAll(async () => {
  cluster = await Cluster.start();
  run = new FailoverRun(cluster, DEFAULT_PARAMS, log);
  await run.setUp(3);
});

afterAll(async () => {
  if (cluster !== undefined) log(`the instances' logs: ${cluster.writeLogs()}`);
  await run?.stop();
  await cluster?.stop();
});

function expectZeros(p: PhaseReport): void {
  expect({
    phase: p.phase,
    reregistrations: p.reregistrations,
    newHandshakes: p.newHandshakes,
    downlinksNotFromVip: p.downlinksNotFromVip,
    acknowledgedMissingFromKafka: p.uplinks.acknowledgedMissingFromKafka,
    rpcsDuplicated: p.rpcs.duplicated,
    rpcsUnanswered: p.rpcs.unanswered,
    leshanRegistrations: p.leshan.registrations,
  }).toEqual({
    phase: p.phase,
    reregistrations: 0,
    newHandshakes: 0,
    downlinksNotFromVip: 0,
    acknowledgedMissingFromKafka: 0,
    rpcsDuplicated: 0,
    rpcsUnanswered: 0,
    leshanRegistrations: 0,
  });
  expect(p.rpcs.answered).toBe(p.rpcs.sent);
}

it('keeps every device, uplink and RPC through kill -9, a rolling restart, NAT rebinding and Redis and Kafka outages', async () => {
  const r = run as FailoverRun;
  await r.steady();
  await r.kill();
  await r.roll();
  await r.rebind();
  await r.outage('redis');
  await r.outage('kafka');
  const report = await r.finish();
  log(`report ${JSON.stringify(report, null, 1)}`);
  expect(report.registered).toBe(DEFAULT_PARAMS.plain + DEFAULT_PARAMS.dtls);
  for (const p of report.phases) expectZeros(p);
  // The load really ran in every phase, and the real client kept notifying through each.
  for (const p of report.phases) {
    expect(p.uplinks.acknowledged).toBeGreaterThan(0);
    expect(p.leshan.notificationsOnKafka).toBeGreaterThan(0);
  }
  const steady = report.phases[0] as PhaseReport;
  expect(steady.rpcs.byResult).toEqual({ CONTENT: steady.rpcs.sent });
  expect(steady.uplinks.refused503 + steady.uplinks.timedOut).toBe(0);
  expect(report.totals).toMatchObject({
    acknowledgedLost: 0,
    reregistrations: 0,
    handshakes: DEFAULT_PARAMS.dtls,
    rpcsDuplicated: 0,
    rpcsUnanswered: 0,
    downlinksNotFromVip: 0,
  });
});
