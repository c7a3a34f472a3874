/**
 * bench:failover: the failover scenarios of test/cluster (steady state, kill -9, rolling restart,
 * NAT rebinding, Redis and Kafka outages) behind the kube-proxy-style load balancer, with the
 * counts written to bench/results/failover-<time>.json. Needs root (network namespaces).
 *
 *   npm run bench:failover [-- --plain 1500 --dtls 500 --queueEvery 10 --sendIntervalMs 10000
 *                             --phaseMs 15000 --outageMs 30000 --rpcs 40 --rebind 10]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from '../test/cluster/cluster';
import { DEFAULT_PARAMS, FailoverRun, type FailoverParams } from '../test/cluster/failover';
import { positiveFlag } from './flags';
import { resultsDir } from './report';
import { errorStack } from '../src/common/error-message';

const log = (line: string): void => void process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const d = DEFAULT_PARAMS;
  const p: FailoverParams = {
    plain: positiveFlag(argv, 'plain', d.plain),
    dtls: positiveFlag(argv, 'dtls', d.dtls),
    queueEvery: positiveFlag(argv, 'queueEvery', d.queueEvery),
    sendIntervalMs: positiveFlag(argv, 'sendIntervalMs', d.sendIntervalMs),
    phaseMs: positiveFlag(argv, 'phaseMs', d.phaseMs),
    outageMs: positiveFlag(argv, 'outageMs', d.outageMs),
    rpcsPerPhase: positiveFlag(argv, 'rpcs', d.rpcsPerPhase),
    rebindDevices: positiveFlag(argv, 'rebind', d.rebindDevices),
  };
  const cluster = await Cluster.start();
  const run = new FailoverRun(cluster, p, log);
  try {
    await run.setUp(3);
    await run.steady();
    await run.kill();
    await run.roll();
    await run.rebind();
    await run.outage('redis');
    await run.outage('kafka');
    const report = await run.finish();
    const at = new Date().toISOString();
    const targets = {
      reregistrations: 0,
      acknowledgedLost: 0,
      newHandshakesAfterSetup: 0,
      rpcsDuplicated: 0,
      rpcsUnanswered: 0,
      downlinksNotFromVip: 0,
    };
    mkdirSync(resultsDir(), { recursive: true });
    const file = join(resultsDir(), `failover-${at.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify({ bench: 'failover', at, params: p, targets, ...report }, null, 2)}\n`);
    log(JSON.stringify(report.totals));
    log(`written ${file}; the instances' logs: ${cluster.writeLogs()}`);
  } finally {
    await run.stop();
    await cluster.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:failover failed: ${errorStack(err)}\n`);
    process.exit(1);
  },
);
