/**
 * The chart's monitoring pieces against the bridge's real metrics: every metric and label the
 * PrometheusRule alerts and the Grafana dashboard query is one the bridge registers (the metric
 * modules of src/observability run here with sample counts), besides Prometheus' `up` and
 * kube-state-metrics' pod readiness. Also: the alerts an operator needs exist, and the dashboard
 * file is one document used by both the chart and docker compose.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { parse as parseYaml } from 'yaml';
import { RPC_RESULTS, type RpcResponseRecord } from '../../src/contract/rpc-records';
import { CoapStats } from '../../src/coap/stats';
import { registerBusMetrics, registerRedisMetrics } from '../../src/observability/bridge-metrics';
import { DtlsEventCounter, registerDtlsMetrics } from '../../src/observability/dtls-metrics';
import { createMetrics } from '../../src/observability/metrics';
import { registerRpcMetrics } from '../../src/observability/rpc-metrics';
import { ServerEvents } from '../../src/server/events';
import { RedisStats } from '../../src/store/redis-stats';
import type { DtlsTransport } from '../../src/dtls/dtls-transport';
import { REPO_ROOT } from '../support/test-deps';
import { exampleValuesFiles, renderChart, REQUIRED_SETS, type PrometheusRule } from '../support/helm';

/** Series labels Prometheus adds to every target, or histogram buckets carry. */
const TARGET_LABELS = new Set(['job', 'namespace', 'instance', 'pod', 'service', 'container', 'endpoint', 'le']);
/** Metrics from elsewhere that the rules may use, with their labels. */
const EXTERNAL: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['up', new Set<string>()],
  ['kube_pod_status_ready', new Set(['condition', 'uid'])],
]);

interface Exposed {
  readonly type: string;
  readonly labels: Set<string>;
  readonly values: Map<string, Set<string>>;
}

/** The bridge's registry as app.ts builds it, with one sample of each labelled series. */
async function bridgeMetrics(): Promise<Map<string, Exposed>> {
  const registry = new Registry();
  const coap = new CoapStats();
  coap.outByTypeCode[2 * 256 + ((5 << 5) | 3)] = 1; // ACK 5.03
  coap.inByTypeCode[0 * 256 + 2] = 1; // CON POST
  const events = new ServerEvents();
  createMetrics({ coap, events, registrations: () => Promise.resolve(7), reassemblies: () => 0 }, registry);
  events.emit({
    type: 'rejected',
    peer: { address: '192.0.2.1', port: 5683 },
    operation: '/rd',
    code: (4 << 5) | 0,
    reason: 'test',
  });
  const bus = registerBusMetrics(registry, () => ({
    bufferedRecords: 0,
    bufferedBytes: 0,
    published: 0,
    failed: 0,
    available: true,
    sendErrors: 0,
  }));
  bus.observeProduceLatency(3);
  const redis = new RedisStats();
  registerRedisMetrics(registry, redis);
  redis.onLatency?.('register', 1);
  const rpc = registerRpcMetrics(registry, { taken: 0, rejected: 0, duplicates: 0, retries: 0 });
  const timeout: RpcResponseRecord = { id: 'r1', endpoint: 'ep', method: 'Read', result: 'TIMEOUT', ts: 0 };
  rpc.observeResponse(timeout, 10);
  const dtls = new DtlsEventCounter();
  dtls.failures.set('bad_record_mac', 1);
  dtls.drops.set('malformed', 1);
  const transport = { dtls: { connectionCount: 0, handshakeCount: 0 }, unsent: 0 } as unknown as DtlsTransport;
  registerDtlsMetrics(registry, dtls, transport, () => 0);

  const out = new Map<string, Exposed>();
  for (const m of await registry.getMetricsAsJSON()) {
    const e: Exposed = { type: String(m.type), labels: new Set(), values: new Map() };
    for (const v of m.values) {
      for (const [k, val] of Object.entries(v.labels)) {
        e.labels.add(k);
        let set = e.values.get(k);
        if (set === undefined) e.values.set(k, (set = new Set()));
        set.add(String(val));
      }
    }
    out.set(m.name, e);
  }
  return out;
}

interface Selector {
  readonly metric: string;
  readonly matchers: ReadonlyArray<{ readonly label: string; readonly op: string; readonly value: string }>;
}

/** Metric selectors of a PromQL expression: `name{l="v",...}` and bare `lwm2m_*` names. */
function selectors(expr: string): Selector[] {
  const out: Selector[] = [];
  const braced = /([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}/g;
  for (const m of expr.matchAll(braced)) {
    const matchers = [...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)].map((x) => ({
      label: x[1] as string,
      op: x[2] as string,
      value: x[3] as string,
    }));
    out.push({ metric: m[1] as string, matchers });
  }
  const bare = expr.replace(braced, ' ');
  for (const m of bare.matchAll(/\b((?:lwm2m|nodejs|process)_[a-zA-Z0-9_]+)\b/g))
    out.push({ metric: m[1] as string, matchers: [] });
  return out;
}

/** Labels of `by (...)` / `without (...)` clauses. */
function groupingLabels(expr: string): string[] {
  return [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) =>
    (m[1] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  );
}

/** The exposed metric a series name belongs to (histogram _bucket/_sum/_count included). */
function exposedFor(name: string, metrics: Map<string, Exposed>): Exposed | undefined {
  const direct = metrics.get(name);
  if (direct !== undefined) return direct;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  const base = m ? metrics.get(m[1] as string) : undefined;
  return base !== undefined && (base.type === 'histogram' || base.type === 'summary') ? base : undefined;
}

/** Every problem with the metrics and labels one expression uses. */
function problems(expr: string, metrics: Map<string, Exposed>): string[] {
  const found: string[] = [];
  const usedLabels = new Set<string>();
  for (const s of selectors(expr)) {
    const external = EXTERNAL.get(s.metric);
    const exposed = exposedFor(s.metric, metrics);
    if (external === undefined && exposed === undefined) {
      found.push(`${s.metric}: not a metric the bridge exposes`);
      continue;
    }
    const labels = external ?? exposed?.labels ?? new Set<string>();
    labels.forEach((l) => usedLabels.add(l));
    for (const { label, op, value } of s.matchers) {
      if (TARGET_LABELS.has(label)) continue;
      if (!labels.has(label)) {
        found.push(`${s.metric}{${label}}: no such label`);
        continue;
      }
      const seen = exposed?.values.get(label);
      if (op === '=' && seen !== undefined && label !== 'result' && !seen.has(value))
        found.push(`${s.metric}{${label}="${value}"}: the bridge writes ${[...seen].join(', ')}`);
      if (op === '=' && label === 'result' && !(RPC_RESULTS as readonly string[]).includes(value))
        found.push(`${s.metric}{result="${value}"}: not an RPC result`);
    }
  }
  for (const l of groupingLabels(expr)) {
    if (!TARGET_LABELS.has(l) && !usedLabels.has(l))
      found.push(`by (${l}): no metric of the expression has that label`);
  }
  return found;
}

const DASHBOARD_FILE = join(REPO_ROOT, 'helm', 'lwm2m-bridge', 'dashboards', 'lwm2m-bridge.json');

interface Panel {
  readonly title?: string;
  readonly targets?: ReadonlyArray<{ readonly expr?: string }>;
  readonly panels?: readonly Panel[];
}

function dashboardExprs(): Array<[string, string]> {
  const dash = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as { panels: readonly Panel[] };
  const out: Array<[string, string]> = [];
  const walk = (panels: readonly Panel[]): void => {
    for (const p of panels) {
      for (const t of p.targets ?? [])
        if (t.expr !== undefined) out.push([p.title ?? '?', t.expr.replace(/\$__rate_interval/g, '5m')]);
      walk(p.panels ?? []);
    }
  };
  walk(dash.panels);
  return out;
}

function ruleExprs(rule: PrometheusRule): Array<[string, string]> {
  return rule.spec.groups.flatMap((g) => g.rules.map((r): [string, string] => [r.alert ?? r.record ?? '?', r.expr]));
}

let metrics: Map<string, Exposed>;
beforeAll(async () => {
  metrics = await bridgeMetrics();
});

test('the checker itself catches unknown metrics, labels and label values', () => {
  expect(problems('rate(lwm2m_coap_messages_out_totl{job="x"}[5m])', metrics)).toEqual([
    'lwm2m_coap_messages_out_totl: not a metric the bridge exposes',
  ]);
  expect(problems('lwm2m_bus_available{code="5.03"}', metrics)).toEqual(['lwm2m_bus_available{code}: no such label']);
  expect(problems('lwm2m_coap_messages_out_total{code="503"}', metrics)).toEqual([
    'lwm2m_coap_messages_out_total{code="503"}: the bridge writes 5.03',
  ]);
  expect(problems('lwm2m_rpc_responses_total{result="TIMED_OUT"}', metrics)).toEqual([
    'lwm2m_rpc_responses_total{result="TIMED_OUT"}: not an RPC result',
  ]);
  expect(problems('sum by (alert) (lwm2m_registrations)', metrics)).toEqual([
    'by (alert): no metric of the expression has that label',
  ]);
  expect(
    problems(
      'histogram_quantile(0.99, sum by (le, operation) (rate(lwm2m_redis_command_seconds_bucket[5m])))',
      metrics,
    ),
  ).toEqual([]);
});

describe('PrometheusRule', () => {
  const renders = [
    {
      name: 'default values with the rule on',
      opts: { set: { ...REQUIRED_SETS, 'metrics.prometheusRule.enabled': 'true' } },
    },
    ...exampleValuesFiles().map((f) => ({ name: f.replace(/.*\//, ''), opts: { valuesFiles: [f] } })),
  ];

  test.each(renders)('$name: every alert uses metrics and labels the bridge exposes', ({ opts }) => {
    const rules = renderChart(opts).all<PrometheusRule>('PrometheusRule');
    for (const rule of rules) {
      const bad = ruleExprs(rule).flatMap(([alert, expr]) => problems(expr, metrics).map((p) => `${alert}: ${p}`));
      expect(bad).toEqual([]);
    }
  });

  test('the alerts an operator needs are there, with a severity', () => {
    const rule = renderChart({
      set: { ...REQUIRED_SETS, 'metrics.prometheusRule.enabled': 'true' },
    }).one<PrometheusRule>('PrometheusRule');
    const rules = rule.spec.groups.flatMap((g) => g.rules);
    const byName = new Map(rules.map((r) => [r.alert ?? '', r]));
    const needs: ReadonlyArray<[string, RegExp]> = [
      ['LwM2MBridgeInstanceNotReady', /kube_pod_status_ready/],
      ['LwM2MBridgeKafkaBufferFilling', /lwm2m_bus_buffered_records.*\/ 100000\b/],
      ['LwM2MBridgeServiceUnavailableAnswers', /code="5\.03"/],
      ['LwM2MBridgeDtlsHandshakeFailures', /lwm2m_dtls_handshake_failures_total/],
      ['LwM2MBridgeRpcTimeouts', /result="TIMEOUT"/],
      ['LwM2MBridgeRegistrationsCollapsing', /lwm2m_registrations/],
    ];
    for (const [alert, expr] of needs) {
      expect({ alert, expr: byName.get(alert)?.expr }).toEqual({ alert, expr: expect.stringMatching(expr) });
      expect(['warning', 'critical']).toContain(byName.get(alert)?.labels?.severity);
    }
    for (const r of rules) expect(r.expr).toMatch(/job="lwm2m-lwm2m-bridge"|pod=~"lwm2m-lwm2m-bridge-/);
  });

  test('the buffer alert follows kafka.maxBufferedRecords', () => {
    const rule = renderChart({
      set: { ...REQUIRED_SETS, 'metrics.prometheusRule.enabled': 'true', 'kafka.maxBufferedRecords': '5000' },
    }).one<PrometheusRule>('PrometheusRule');
    const buffer = rule.spec.groups.flatMap((g) => g.rules).find((r) => r.alert === 'LwM2MBridgeKafkaBufferFilling');
    expect(buffer?.expr).toContain('lwm2m_bus_buffered_records{job="lwm2m-lwm2m-bridge",namespace="iot"} / 5000 >');
  });
});

describe('Grafana dashboard', () => {
  test('every panel queries metrics and labels the bridge exposes', () => {
    const exprs = dashboardExprs();
    expect(exprs.length).toBeGreaterThan(20);
    const bad = exprs.flatMap(([title, expr]) => problems(expr, metrics).map((p) => `${title}: ${p}`));
    expect(bad).toEqual([]);
  });

  test('it has a datasource variable (works with any Prometheus) and a stable uid', () => {
    const dash = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as {
      uid: string;
      templating: { list: ReadonlyArray<{ name: string; type: string }> };
    };
    expect(dash.uid).toBe('lwm2m-bridge');
    expect(dash.templating.list.find((v) => v.type === 'datasource')?.name).toBe('datasource');
  });

  test('docker compose provisions the same file through Grafana', () => {
    const compose = parseYaml(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { image?: string; volumes?: string[] }>;
    };
    const grafana = compose.services.grafana;
    expect(grafana?.image).toMatch(/^grafana\/grafana:/);
    const mount = grafana?.volumes?.find((v) => v.startsWith('./helm/lwm2m-bridge/dashboards:'));
    expect(mount).toBeDefined();
    const target = (mount ?? '').split(':')[1];
    const provider = parseYaml(
      readFileSync(join(REPO_ROOT, 'deploy', 'grafana', 'provisioning', 'dashboards', 'lwm2m-bridge.yml'), 'utf8'),
    ) as { providers: ReadonlyArray<{ options: { path: string } }> };
    expect(provider.providers[0]?.options.path).toBe(target);
    const ds = parseYaml(
      readFileSync(join(REPO_ROOT, 'deploy', 'grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'utf8'),
    ) as { datasources: ReadonlyArray<{ type: string; url: string }> };
    expect(ds.datasources[0]).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
  });
});
