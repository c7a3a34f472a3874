/**
 * The bridge process on a real 3-master Redis Cluster (REDIS_CLUSTER=true, REDIS_URL = the seed
 * list): it becomes ready, a device registers with libcoap's coap-client (LwM2M-Core 1.2 §6.2.1),
 * and the registration is in the cluster — the device hash under its hash tag and the indexes by
 * registration id and address in their own slots (Redis Cluster spec, "Hash tags"). A seed list
 * that cannot be read stops the process with exit code 2 naming REDIS_URL.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import { RedisRegistrationStore } from '../../src/store';
import { bridgeMetric, realInfraEnv, startBridgeProcess, type BridgeProcess } from '../support/bridge-process';
import { runCoapClient } from '../support/coap-cli';
import { startRedisCluster, type RedisClusterHandle } from '../support/redis-cluster';
import { until } from '../support/until';

const MAIN = join(__dirname, '../../dist/src/main.js');
const run = randomUUID().slice(0, 8);
const prefix = `rcb-${run}`;
const EP = `cluster-dev-${run}`;

let cluster: RedisClusterHandle;
let bridge: BridgeProcess | undefined;
let client: Cluster | undefined;

beforeAll(async () => {
  cluster = await startRedisCluster();
  bridge = await startBridgeProcess(
    realInfraEnv(prefix, `${prefix}.`, { REDIS_URL: cluster.url, REDIS_CLUSTER: 'true', INSTANCE_ID: `bridge-${run}` }),
  );
}, 90_000);

afterAll(async () => {
  await bridge?.kill();
  await client?.quit().catch(() => client?.disconnect());
  await cluster?.stop();
});

it('becomes ready on the cluster and keeps a device registered over CoAP in it', async () => {
  const b = bridge as BridgeProcess;
  const readyz = async (): Promise<number> => (await fetch(`http://127.0.0.1:${b.httpPort}/readyz`)).status;
  await until(
    'the bridge ready on the Redis Cluster',
    async () => ((await readyz()) === 200 ? true : undefined),
    30_000,
    100,
  );
  // The cache invalidation channel is subscribed through the cluster client's duplicate.
  await until(
    'the invalidation channel subscribed on the cluster',
    async () => ((await bridgeMetric(b, 'lwm2m_redis_cache_coherent')) === 1 ? true : undefined),
    10_000,
    100,
  );

  const r = await runCoapClient(
    [
      '-m',
      'post',
      '-t',
      '40',
      '-e',
      '</1/0>,</3/0>',
      '-v',
      '6',
      '-B',
      '5',
      `coap://127.0.0.1:${b.coapPort}/rd?ep=${EP}&lt=300&lwm2m=1.1&b=U`,
    ],
    { timeoutMs: 20_000 },
  );
  const out = `${r.stdout}\n${r.stderr}`;
  const created = out
    .split('\n')
    .map((l) => l.trim())
    .find((l) => /^v:1 t:(ACK|NON|CON) c:2\.01/.test(l));
  expect(created).toBeDefined();
  const id = /Location-Path:rd, Location-Path:([^ ,\]]+)/.exec(created ?? '')?.[1];
  expect(id).toBeDefined();

  client = new Cluster(
    cluster.ports.map((port) => ({ host: '127.0.0.1', port })),
    { scaleReads: 'master' },
  );
  const store = new RedisRegistrationStore({
    redis: client,
    keyPrefix: prefix,
    instanceId: 'checker',
    cacheTtlMs: 0,
    cacheMax: 0,
  });
  const reg = await store.getByEndpoint(EP);
  expect(reg).toMatchObject({ endpoint: EP, id, lifetime: 300, lwm2mVersion: '1.1' });
  expect(reg?.objects.map((o) => o.objectId).sort()).toEqual([1, 3]);
  // Found through the id and address indexes too, which live in other slots than the device hash.
  expect((await store.getById(id ?? ''))?.endpoint).toBe(EP);
  expect((await store.getByAddress(reg?.address ?? '', reg?.port ?? 0))?.endpoint).toBe(EP);
  expect((await store.lastSeen(EP))?.instanceId).toBe(`bridge-${run}`);
  expect(await readyz()).toBe(200);
});

it('stops with exit code 2 naming REDIS_URL when the cluster seed list cannot be read', () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
  const env = {
    ...process.env,
    ...realInfraEnv(prefix, `${prefix}.`, { REDIS_CLUSTER: 'true', REDIS_URL: `${cluster.nodes[0] ?? ''},not a url` }),
  };
  const r = spawnSync(process.execPath, [MAIN], { env, encoding: 'utf8', timeout: 20_000 });
  expect(r.status).toBe(2);
  expect(r.stderr).toContain('REDIS_URL');
  expect(r.stderr).toMatch(/seed node 2 of 2/);
});
