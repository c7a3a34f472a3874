/**
 * The chart against the bridge's own configuration code: every environment variable the chart can
 * set is a key of envSchema (src/config/env.ts) and every key can be set; probes and the metrics
 * path are routes src/http/api.ts serves, on the port the bridge listens on; every credential comes
 * from the Secret and never from the ConfigMap; and the environment a pod gets passes loadConfig().
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { envSchema, loadConfig } from '../../src/config/env';
import { REPO_ROOT } from '../support/test-deps';
import {
  CHART_DIR,
  exampleValuesFiles,
  renderChart,
  REQUIRED_SETS,
  type EnvVar,
  type Rendered,
  type RenderOptions,
  type ServiceMonitor,
} from '../support/helm';

const ENV_KEYS = new Set(Object.keys(envSchema.shape));

/** Credentials the bridge reads: the chart must take each from a Secret. */
const SECRET_VARS = [
  'HTTP_API_TOKEN',
  'DTLS_SHARED_SECRET',
  'REDIS_PASSWORD',
  'KAFKA_SASL_USERNAME',
  'KAFKA_SASL_PASSWORD',
  'DTLS_SERVER_KEY',
  'DTLS_SERVER_CERT',
  'DTLS_TRUSTED_CA',
  'KAFKA_SSL_CA',
  'KAFKA_SSL_CERT',
  'KAFKA_SSL_KEY',
] as const;
/** Secrets needed outside embedded mode (with CoAPS on). */
const REQUIRED_SECRET_VARS = ['HTTP_API_TOKEN', 'DTLS_SHARED_SECRET'] as const;

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUTEST\n-----END CERTIFICATE-----\n';

interface Case {
  readonly name: string;
  readonly opts: RenderOptions;
}

const ALL_SECRETS: Case = {
  name: 'every secret given',
  opts: {
    set: {
      ...REQUIRED_SETS,
      'kafka.sasl.mechanism': 'scram-sha-256',
      'kafka.ssl.enabled': 'true',
      'rpc.groupId': 'lwm2m-bridge.rpc',
    },
    values: {
      secrets: {
        REDIS_PASSWORD: 'redis-password',
        KAFKA_SASL_USERNAME: 'bridge',
        KAFKA_SASL_PASSWORD: 'kafka-password',
        DTLS_SERVER_KEY: PEM,
        DTLS_SERVER_CERT: PEM,
        DTLS_TRUSTED_CA: PEM,
        KAFKA_SSL_CA: PEM,
        KAFKA_SSL_CERT: PEM,
        KAFKA_SSL_KEY: PEM,
      },
      profiles: {
        'sensor.json': JSON.parse(
          readFileSync(join(REPO_ROOT, 'examples', 'profiles', 'temperature-sensor.json'), 'utf8'),
        ) as unknown,
      },
      profileRules: [{ pattern: 'thermo-*', profile: 'temperature-sensor' }],
    },
  },
};

const CASES: readonly Case[] = [
  { name: 'default values', opts: { set: REQUIRED_SETS } },
  ALL_SECRETS,
  { name: 'CoAPS off', opts: { set: { ...REQUIRED_SETS, 'coaps.enabled': 'false' } } },
  ...exampleValuesFiles().map((f) => ({ name: basename(f), opts: { valuesFiles: [f] } })),
];

const renders = new Map<string, Rendered>();
function render(c: Case): Rendered {
  let r = renders.get(c.name);
  if (r === undefined) renders.set(c.name, (r = renderChart(c.opts)));
  return r;
}

/** Every variable name a pod of this render gets: ConfigMap (envFrom) keys and env entries. */
function envNames(r: Rendered): string[] {
  return [...Object.keys(r.envConfigMap.data ?? {}), ...(r.container.env ?? []).map((e) => e.name)];
}

interface ChartSchema {
  properties: {
    extraEnv: { properties: Record<string, unknown>; additionalProperties: boolean };
    secrets: { properties: Record<string, unknown>; additionalProperties: boolean };
  };
}
const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as ChartSchema;
const extraEnvNames = Object.keys(schema.properties.extraEnv.properties);
const secretValueNames = Object.keys(schema.properties.secrets.properties);

/** The value a pod sees for an env entry: literal, pod name, or the Secret's (decoded) key. */
function resolveEnv(r: Rendered, e: EnvVar, existingSecret: Readonly<Record<string, string>>): string | undefined {
  if (e.value !== undefined) return e.value;
  if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') return 'lwm2m-lwm2m-bridge-7c9d8f6b5-x2x4q';
  const ref = e.valueFrom?.secretKeyRef;
  if (ref === undefined) throw new Error(`${e.name}: unexpected valueFrom ${JSON.stringify(e.valueFrom)}`);
  const data = r.secret(ref.name)?.data;
  if (data !== undefined) {
    const b64 = data[ref.key];
    if (b64 === undefined) throw new Error(`${e.name}: Secret ${ref.name} has no key ${ref.key}`);
    return Buffer.from(b64, 'base64').toString('utf8');
  }
  return existingSecret[ref.key] ?? (ref.optional === true ? undefined : 'x'.repeat(24));
}

describe('environment variable names', () => {
  test.each(CASES)('$name: every variable the chart sets is read by the bridge', (c) => {
    const unknown = envNames(render(c)).filter((n) => !ENV_KEYS.has(n));
    expect(unknown).toEqual([]);
  });

  test('values.schema.json only offers variables of envSchema (extraEnv, secrets), with no typo let through', () => {
    expect(extraEnvNames.filter((n) => !ENV_KEYS.has(n))).toEqual([]);
    expect(secretValueNames.filter((n) => !ENV_KEYS.has(n))).toEqual([]);
    expect(schema.properties.extraEnv.additionalProperties).toBe(false);
    expect(schema.properties.secrets.additionalProperties).toBe(false);
    expect([...secretValueNames].sort()).toEqual([...SECRET_VARS].sort());
  });

  test('every variable of envSchema can be set through the chart, in exactly one way', () => {
    const structured = new Set(
      CASES.flatMap((c) => Object.keys(render(c).envConfigMap.data ?? {})).filter((n) => !extraEnvNames.includes(n)),
    );
    const ways = new Map<string, string[]>();
    const add = (name: string, way: string): void => void ways.set(name, [...(ways.get(name) ?? []), way]);
    structured.forEach((n) => add(n, 'own value'));
    extraEnvNames.forEach((n) => add(n, 'extraEnv'));
    secretValueNames.forEach((n) => add(n, 'secrets'));
    add('INSTANCE_ID', 'pod name');
    const missing = [...ENV_KEYS].filter((k) => !ways.has(k));
    const twice = [...ways].filter(([, w]) => w.length > 1).map(([k, w]) => `${k}: ${w.join(' + ')}`);
    expect({ missing, twice }).toEqual({ missing: [], twice: [] });
  });
});

describe('HTTP: probes and metrics on routes the bridge serves, on its port', () => {
  const apiSource = readFileSync(join(REPO_ROOT, 'src', 'http', 'api.ts'), 'utf8');
  const getRoutes = new Set(
    [...apiSource.matchAll(/req\.method === 'GET' && path === '(\/[^']*)'/g)].map((m) => m[1] as string),
  );

  test('src/http/api.ts serves GET /healthz, /readyz, /readyz/serving and /metrics', () => {
    expect([...getRoutes]).toEqual(expect.arrayContaining(['/healthz', '/readyz', '/readyz/serving', '/metrics']));
  });

  test.each(CASES)('$name', (c) => {
    const r = render(c);
    const k = r.container;
    for (const probe of [k.livenessProbe, k.readinessProbe, k.startupProbe]) {
      expect(getRoutes.has(probe?.httpGet?.path ?? '')).toBe(true);
      expect(probe?.httpGet?.port).toBe('http');
    }
    const cm = r.envConfigMap.data ?? {};
    const httpPort = k.ports?.find((p) => p.name === 'http')?.containerPort;
    expect(httpPort).toBe(Number(cm.HTTP_PORT));
    expect(['127.0.0.1', 'localhost', '::1']).not.toContain(cm.HTTP_HOST);
    expect(cm.HTTP_HOST).toBeDefined();
    expect(cm.COAP_HOST).toBeDefined();
    for (const sm of r.all<ServiceMonitor>('ServiceMonitor'))
      for (const ep of sm.spec.endpoints) expect(getRoutes.has(ep.path ?? '')).toBe(true);
  });
});

describe('secrets', () => {
  test.each(CASES)('$name: no credential is in the ConfigMap', (c) => {
    const cm = render(c).envConfigMap.data ?? {};
    expect(SECRET_VARS.filter((v) => v in cm)).toEqual([]);
  });

  test('every credential is wired from the chart Secret: scalars by secretKeyRef, PEM as mounted files', () => {
    const r = render(ALL_SECRETS);
    const env = new Map((r.container.env ?? []).map((e) => [e.name, e]));
    const secretName = 'lwm2m-lwm2m-bridge';
    const secret = r.secret(secretName);
    expect(secret).toBeDefined();
    const pod = r.deployment.spec.template.spec;
    for (const v of SECRET_VARS) {
      const e = env.get(v);
      expect({ v, wired: e !== undefined }).toEqual({ v, wired: true });
      expect(secret?.data?.[v]).toBeDefined();
      const ref = e?.valueFrom?.secretKeyRef;
      if (ref !== undefined) {
        expect(ref).toMatchObject({ name: secretName, key: v });
        continue;
      }
      // A PEM file: the variable holds the path of the Secret's key mounted read-only.
      const mount = (r.container.volumeMounts ?? []).find((m) => e?.value?.startsWith(`${m.mountPath}/`));
      expect({ v, mount: mount?.readOnly }).toEqual({ v, mount: true });
      const volume = pod.volumes?.find((x) => x.name === mount?.name);
      expect(volume?.secret?.secretName).toBe(secretName);
      expect(volume?.secret?.items).toContainEqual({
        key: v,
        path: e?.value?.slice((mount?.mountPath.length ?? 0) + 1),
      });
    }
  });

  test.each(CASES)('$name: the secrets needed outside embedded mode come from a Secret', (c) => {
    const r = render(c);
    const cm = r.envConfigMap.data ?? {};
    const env = new Map((r.container.env ?? []).map((e) => [e.name, e]));
    const needed = REQUIRED_SECRET_VARS.filter((v) => v !== 'DTLS_SHARED_SECRET' || cm.COAPS_PORT !== '-1');
    for (const v of needed) {
      const ref = env.get(v)?.valueFrom?.secretKeyRef;
      expect({ v, key: ref?.key, optional: ref?.optional ?? false }).toEqual({ v, key: v, optional: false });
    }
    const scalarSasl = cm.KAFKA_SASL_MECHANISM !== undefined ? ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] : [];
    for (const v of scalarSasl) expect(env.get(v)?.valueFrom?.secretKeyRef?.optional ?? false).toBe(false);
  });
});

describe('the environment a pod gets passes loadConfig()', () => {
  /** Values an existingSecret would hold, for renders that reference one. */
  const EXISTING: Readonly<Record<string, string>> = {
    HTTP_API_TOKEN: 'existing-api-token',
    DTLS_SHARED_SECRET: 'existing-shared-secret-0123456789',
    REDIS_PASSWORD: 'existing-redis-password',
    KAFKA_SASL_USERNAME: 'bridge',
    KAFKA_SASL_PASSWORD: 'existing-kafka-password',
  };

  test.each(CASES)('$name', (c) => {
    const r = render(c);
    const env: Record<string, string> = { ...(r.envConfigMap.data ?? {}) };
    for (const e of r.container.env ?? []) {
      const v = resolveEnv(r, e, EXISTING);
      if (v !== undefined) env[e.name] = v;
    }
    const config = loadConfig(env);
    const ports = new Map((r.container.ports ?? []).map((p) => [p.name, p.containerPort]));
    expect(config.HTTP_PORT).toBe(ports.get('http'));
    expect(config.COAP_PORT).toBe(ports.get('coap'));
    expect(config.COAPS_PORT).toBe(ports.get('coaps') ?? -1);
    expect(config.HTTP_HOST).not.toBe('127.0.0.1');
    expect(config.REDIS_URL).not.toBe('');
    expect(config.KAFKA_BROKERS).not.toBe('');
    expect(config.HTTP_API_TOKEN).not.toBe('');
    expect(config.INSTANCE_ID).toBe('lwm2m-lwm2m-bridge-7c9d8f6b5-x2x4q');
    if (config.COAPS_PORT !== -1) expect(config.DTLS_SHARED_SECRET.length).toBeGreaterThanOrEqual(16);
    if (config.PROFILES_DIR !== '') {
      const mount = (r.container.volumeMounts ?? []).find((m) => m.mountPath === config.PROFILES_DIR);
      expect(mount?.readOnly).toBe(true);
    }
  });

  test('numbers and booleans from values files reach the bridge as it parses them (no 1e+06)', () => {
    const r = renderChart({
      set: REQUIRED_SETS,
      values: {
        extraEnv: {
          COAP_MAX_PEERS: 1000000,
          COAP_ACK_RANDOM_FACTOR: 1.5,
          DEBUG_ENDPOINTS: false,
          REDIS_CACHE_MAX: 20000000 - 10000000,
        },
        dtls: { sessionTtlMs: 172800000 },
      },
    });
    const cm = r.envConfigMap.data ?? {};
    expect(cm).toMatchObject({
      COAP_MAX_PEERS: '1000000',
      COAP_ACK_RANDOM_FACTOR: '1.5',
      DEBUG_ENDPOINTS: 'false',
      REDIS_CACHE_MAX: '10000000',
      DTLS_SESSION_TTL_MS: '172800000',
    });
    const config = loadConfig({ ...cm, HTTP_API_TOKEN: 't' });
    expect(config).toMatchObject({
      COAP_MAX_PEERS: 1_000_000,
      COAP_ACK_RANDOM_FACTOR: 1.5,
      DEBUG_ENDPOINTS: false,
      REDIS_CACHE_MAX: 10_000_000,
      DTLS_SESSION_TTL_MS: 172_800_000,
    });
  });
});
