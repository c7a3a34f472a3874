/**
 * The Helm chart helm/lwm2m-bridge: `helm lint --strict` and `helm template` of the default values
 * (with the required ones set) and of every examples/values-*.yaml, the rendered objects checked
 * (rollout, pod identity, security, probes, services, termination), and bad values rejected with a
 * message that names the value. Needs helm (test/support/k8s-tools.ts); missing, the tests fail.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { REPO_ROOT } from '../support/test-deps';
import {
  exampleValuesFiles,
  helmLint,
  helmTemplate,
  renderChart,
  REQUIRED_SETS,
  type ConfigMap,
  type K8sObject,
  type PodMonitor,
  type Rendered,
  type RenderOptions,
  type Service,
  type ServiceMonitor,
} from '../support/helm';

interface Case {
  readonly name: string;
  readonly opts: RenderOptions;
}

const CASES: readonly Case[] = [
  { name: 'default values', opts: { set: REQUIRED_SETS } },
  ...exampleValuesFiles().map((f) => ({ name: basename(f), opts: { valuesFiles: [f] } })),
];

/** The uid of the Dockerfile's runtime USER. */
function dockerfileUid(): number {
  const users = [...readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8').matchAll(/^USER\s+(\d+)/gm)];
  const last = users[users.length - 1];
  if (last === undefined) throw new Error('the Dockerfile has no numeric USER');
  return Number(last[1]);
}

const renders = new Map<string, Rendered>();
function render(c: Case): Rendered {
  let r = renders.get(c.name);
  if (r === undefined) renders.set(c.name, (r = renderChart(c.opts)));
  return r;
}

function udpService(r: Rendered): Service {
  return r.one<Service>('Service', '-coap');
}

function httpService(r: Rendered): Service {
  return r.one<Service>('Service', '-http');
}

test('there are example values files', () => {
  expect(exampleValuesFiles().map((f) => basename(f))).toEqual(
    expect.arrayContaining(['values-dev.yaml', 'values-production.yaml']),
  );
});

describe.each(CASES)('$name', (c) => {
  test('helm lint --strict passes', () => {
    const r = helmLint(c.opts);
    expect({ status: r.status, out: r.stdout + r.stderr }).toEqual({
      status: 0,
      out: expect.stringContaining('0 chart(s) failed'),
    });
    expect(r.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
  });

  test('renders parseable objects, each labelled with the release', () => {
    const r = render(c);
    expect(r.objects.length).toBeGreaterThan(4);
    for (const o of r.objects) expect(o.metadata.labels?.['app.kubernetes.io/instance']).toBe('lwm2m');
  });

  test('rolls one pod at a time without ever going below the replica count', () => {
    const d = render(c).deployment;
    expect(d.spec.strategy.type).toBe('RollingUpdate');
    expect(d.spec.strategy.rollingUpdate?.maxUnavailable).toBe(0);
    expect(d.spec.strategy.rollingUpdate?.maxSurge).toBeGreaterThanOrEqual(1);
  });

  test('INSTANCE_ID is the pod name (downward API)', () => {
    const env = render(c).container.env ?? [];
    expect(env.filter((e) => e.name === 'INSTANCE_ID')).toEqual([
      { name: 'INSTANCE_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    ]);
  });

  test('runs as the image user, non-root, read-only, without privileges', () => {
    const r = render(c);
    const pod = r.deployment.spec.template.spec;
    const sc = r.container.securityContext;
    const uid = dockerfileUid();
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: uid,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(sc).toMatchObject({
      runAsNonRoot: true,
      runAsUser: uid,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(sc?.capabilities?.drop).toEqual(['ALL']);
    expect(sc?.capabilities?.add ?? []).toEqual([]);
    const tmp = r.container.volumeMounts?.find((m) => m.mountPath === '/tmp');
    expect(pod.volumes?.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  test('probes: liveness and start-up on /healthz, readiness on /readyz/serving, on the HTTP port', () => {
    const k = render(c).container;
    expect(k.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(k.startupProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(k.readinessProbe?.httpGet).toEqual({ path: '/readyz/serving', port: 'http' });
    expect(k.ports?.filter((p) => p.name === 'http')).toEqual([
      { name: 'http', containerPort: expect.any(Number), protocol: 'TCP' },
    ]);
  });

  test('resources are requested and memory is limited', () => {
    const res = render(c).container.resources;
    expect(res?.requests?.cpu).toBeDefined();
    expect(res?.requests?.memory).toBeDefined();
    expect(res?.limits?.memory).toBeDefined();
  });

  test('the UDP Service carries CoAP (and CoAPS when on) only, keeping source addresses', () => {
    const r = render(c);
    const svc = udpService(r);
    const cm = r.envConfigMap.data ?? {};
    expect(['LoadBalancer', 'NodePort']).toContain(svc.spec.type);
    expect(svc.spec.externalTrafficPolicy).toBe('Local');
    expect(svc.spec.ports.every((p) => p.protocol === 'UDP')).toBe(true);
    const coapsOn = cm.COAPS_PORT !== '-1';
    expect(svc.spec.ports.map((p) => p.targetPort)).toEqual(coapsOn ? ['coap', 'coaps'] : ['coap']);
    const containerPorts = r.container.ports ?? [];
    expect(containerPorts.find((p) => p.name === 'coap')).toEqual({
      name: 'coap',
      containerPort: Number(cm.COAP_PORT),
      protocol: 'UDP',
    });
    if (coapsOn)
      expect(containerPorts.find((p) => p.name === 'coaps')).toEqual({
        name: 'coaps',
        containerPort: Number(cm.COAPS_PORT),
        protocol: 'UDP',
      });
    else expect(containerPorts.find((p) => p.name === 'coaps')).toBeUndefined();
    if (svc.spec.sessionAffinity === 'ClientIP')
      expect(svc.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds).toBeGreaterThan(0);
    else expect(svc.spec.sessionAffinity).toBe('None');
  });

  test('HTTP is on a ClusterIP Service only, never on the UDP load balancer', () => {
    const r = render(c);
    const http = httpService(r);
    expect(http.spec.type).toBe('ClusterIP');
    expect(http.spec.ports).toEqual([{ name: 'http', protocol: 'TCP', port: expect.any(Number), targetPort: 'http' }]);
    const httpPort = r.container.ports?.find((p) => p.name === 'http')?.containerPort;
    for (const svc of r.all<Service>('Service')) {
      if (svc.spec.type === 'ClusterIP') continue;
      for (const p of svc.spec.ports) {
        expect(p.protocol).toBe('UDP');
        expect(p.targetPort).not.toBe('http');
        expect(p.targetPort).not.toBe(httpPort);
      }
    }
  });

  test('the grace period covers the preStop pause, the shutdown budget and a margin', () => {
    const r = render(c);
    const pod = r.deployment.spec.template.spec;
    const preStop = r.container.lifecycle?.preStop;
    const pause = preStop?.sleep?.seconds ?? Number(preStop?.exec?.command[1]);
    expect(pause).toBeGreaterThan(0);
    const shutdownS = Math.ceil(Number(r.envConfigMap.data?.SHUTDOWN_TIMEOUT_MS) / 1000);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(pause + shutdownS);
  });

  test('pods roll when their configuration changes (checksum annotations)', () => {
    const ann = render(c).deployment.spec.template.metadata.annotations ?? {};
    expect(ann['checksum/config']).toMatch(/^[0-9a-f]{64}$/);
  });

  test('replicas are spread over nodes and zones, guarded by a PodDisruptionBudget or an autoscaler', () => {
    const r = render(c);
    const d = r.deployment;
    const keys = (d.spec.template.spec.topologySpreadConstraints ?? []).map((t) => t.topologyKey);
    expect(keys).toEqual(expect.arrayContaining(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']));
    const hpa = r.maybe<
      K8sObject & { spec: { minReplicas: number; maxReplicas: number; scaleTargetRef: { name: string } } }
    >('HorizontalPodAutoscaler');
    if (hpa !== undefined) {
      expect(hpa.apiVersion).toBe('autoscaling/v2');
      expect(hpa.spec.scaleTargetRef.name).toBe(d.metadata.name);
      expect(d.spec.replicas).toBeUndefined();
    } else {
      expect(d.spec.replicas).toBeGreaterThanOrEqual(1);
    }
  });

  test('monitors select the HTTP Service or pods on the "http" port, /metrics', () => {
    const r = render(c);
    const sm = r.maybe<ServiceMonitor>('ServiceMonitor');
    const pm = r.maybe<PodMonitor>('PodMonitor');
    expect(sm !== undefined && pm !== undefined).toBe(false);
    if (sm !== undefined) {
      const http = httpService(r);
      for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) expect(http.metadata.labels?.[k]).toBe(v);
      const udp = udpService(r);
      expect(Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => udp.metadata.labels?.[k] === v)).toBe(
        false,
      );
      expect(sm.spec.endpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })]);
    }
    if (pm !== undefined) {
      const podLabels = r.deployment.spec.template.metadata.labels ?? {};
      for (const [k, v] of Object.entries(pm.spec.selector.matchLabels)) expect(podLabels[k]).toBe(v);
      expect(pm.spec.podMetricsEndpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })]);
    }
  });

  test('the dashboard ConfigMap, when shipped, is the dashboard file itself', () => {
    const r = render(c);
    const cm = r.all<ConfigMap>('ConfigMap').find((x) => x.metadata.name.endsWith('-dashboard'));
    if (cm === undefined) return;
    expect(cm.metadata.labels?.grafana_dashboard).toBe('1');
    const file = readFileSync(join(REPO_ROOT, 'helm', 'lwm2m-bridge', 'dashboards', 'lwm2m-bridge.json'), 'utf8');
    expect(JSON.parse(cm.data?.['lwm2m-bridge.json'] ?? 'null')).toEqual(JSON.parse(file));
  });
});

describe('value switches', () => {
  test('coaps.enabled=false leaves 5684 off the Service and the pod, COAPS_PORT=-1', () => {
    const r = renderChart({ set: { ...REQUIRED_SETS, 'coaps.enabled': 'false' } });
    expect(udpService(r).spec.ports.map((p) => p.name)).toEqual(['coap']);
    expect(r.container.ports?.map((p) => p.name)).toEqual(['coap', 'http']);
    expect(r.envConfigMap.data?.COAPS_PORT).toBe('-1');
  });

  test('sessionAffinity ClientIP carries its timeout; Cluster policy is passed through', () => {
    const r = renderChart({
      set: {
        ...REQUIRED_SETS,
        'service.sessionAffinity': 'ClientIP',
        'service.sessionAffinityTimeoutSeconds': '3600',
        'service.externalTrafficPolicy': 'Cluster',
      },
    });
    const svc = udpService(r);
    expect(svc.spec.sessionAffinity).toBe('ClientIP');
    expect(svc.spec.sessionAffinityConfig).toEqual({ clientIP: { timeoutSeconds: 3600 } });
    expect(svc.spec.externalTrafficPolicy).toBe('Cluster');
  });

  test('the default Service is a Local LoadBalancer without affinity', () => {
    const svc = udpService(renderChart({ set: REQUIRED_SETS }));
    expect(svc.spec).toMatchObject({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', sessionAffinity: 'None' });
    expect(svc.spec.ports.map((p) => [p.name, p.port])).toEqual([
      ['coap', 5683],
      ['coaps', 5684],
    ]);
  });

  test('preStopMode exec runs sleep from the image', () => {
    const r = renderChart({ set: { ...REQUIRED_SETS, 'lifecycle.preStopMode': 'exec' } });
    expect(r.container.lifecycle?.preStop).toEqual({ exec: { command: ['sleep', '10'] } });
  });

  test('a changed setting changes the pod template checksum', () => {
    const a = renderChart({ set: REQUIRED_SETS }).deployment.spec.template.metadata.annotations ?? {};
    const b =
      renderChart({ set: { ...REQUIRED_SETS, logLevel: 'debug' } }).deployment.spec.template.metadata.annotations ?? {};
    expect(b['checksum/config']).not.toBe(a['checksum/config']);
    const s =
      renderChart({ set: { ...REQUIRED_SETS, 'secrets.HTTP_API_TOKEN': 'another-token' } }).deployment.spec.template
        .metadata.annotations ?? {};
    expect(s['checksum/secret']).not.toBe(a['checksum/secret']);
  });
});

describe('bad values are rejected, naming the value', () => {
  const without = (key: string): Record<string, string> =>
    Object.fromEntries(Object.entries(REQUIRED_SETS).filter(([k]) => k !== key));
  /** Single values: values.schema.json rejects them, under helm lint as under helm template. */
  const BY_SCHEMA: ReadonlyArray<[string, Record<string, string>, RegExp]> = [
    [
      'a port out of range',
      { ...REQUIRED_SETS, 'coap.port': '70000' },
      /'\/coap\/port': maximum: got 70,?000, want 65,?535/,
    ],
    [
      'an unknown externalTrafficPolicy',
      { ...REQUIRED_SETS, 'service.externalTrafficPolicy': 'Sideways' },
      /'\/service\/externalTrafficPolicy': value must be one of 'Local', 'Cluster'/,
    ],
    [
      'an unknown sessionAffinity',
      { ...REQUIRED_SETS, 'service.sessionAffinity': 'Sticky' },
      /'\/service\/sessionAffinity'/,
    ],
    [
      'an unknown top-level key',
      { ...REQUIRED_SETS, 'servce.type': 'LoadBalancer' },
      /additional properties 'servce' not allowed/,
    ],
    [
      'an unknown nested key',
      { ...REQUIRED_SETS, 'kafka.saslMechanism': 'plain' },
      /'\/kafka': additional properties 'saslMechanism' not allowed/,
    ],
    ['an unknown log level', { ...REQUIRED_SETS, logLevel: 'verbose' }, /'\/logLevel': value must be one of/],
    [
      'an extraEnv name the bridge does not read',
      { ...REQUIRED_SETS, 'extraEnv.COAP_PORTS': '1' },
      /'\/extraEnv': additional properties 'COAP_PORTS' not allowed/,
    ],
    [
      'a secret in extraEnv (it would land in a ConfigMap)',
      { ...REQUIRED_SETS, 'extraEnv.HTTP_API_TOKEN': 'x' },
      /'\/extraEnv': additional properties 'HTTP_API_TOKEN' not allowed/,
    ],
    ['missing kafka brokers', without('kafka.brokers'), /'\/kafka': missing property 'brokers'/],
    ['empty kafka brokers', { ...REQUIRED_SETS, 'kafka.brokers': '' }, /'\/kafka\/brokers': minLength/],
    ['missing redis url', without('redis.url'), /'\/redis': missing property 'url'/],
    ['missing API token', without('secrets.HTTP_API_TOKEN'), /'\/secrets\/HTTP_API_TOKEN': minLength: got 0, want 1/],
    [
      'missing DTLS shared secret with CoAPS on',
      without('secrets.DTLS_SHARED_SECRET'),
      /'\/secrets\/DTLS_SHARED_SECRET': minLength: got 0, want 16/,
    ],
    [
      'a DTLS shared secret under 16 characters',
      { ...REQUIRED_SETS, 'secrets.DTLS_SHARED_SECRET': 'short' },
      /'\/secrets\/DTLS_SHARED_SECRET'.*\n(.*\n)*.*minLength: got 5, want 16/,
    ],
    [
      'secrets together with existingSecret',
      { ...REQUIRED_SETS, existingSecret: 'mine' },
      /'\/secrets\/HTTP_API_TOKEN': maxLength: got \d+, want 0/,
    ],
    [
      'SASL without credentials',
      { ...REQUIRED_SETS, 'kafka.sasl.mechanism': 'scram-sha-512' },
      /'\/secrets\/KAFKA_SASL_USERNAME': minLength/,
    ],
    [
      'an unknown SASL mechanism',
      { ...REQUIRED_SETS, 'kafka.sasl.mechanism': 'kerberos' },
      /'\/kafka\/sasl\/mechanism': value must be one of/,
    ],
    [
      'a ClusterIP device Service',
      { ...REQUIRED_SETS, 'service.type': 'ClusterIP' },
      /'\/service\/type': value must be one of/,
    ],
    [
      'a node port outside the node port range',
      { ...REQUIRED_SETS, 'service.coapNodePort': '80' },
      /'\/service\/coapNodePort': minimum/,
    ],
    [
      'an unknown PEM key in existingSecretFiles',
      {
        ...without('secrets.HTTP_API_TOKEN'),
        'secrets.DTLS_SHARED_SECRET': '',
        existingSecret: 'mine',
        'existingSecretFiles[0]': 'TLS_KEY',
      },
      /'\/existingSecretFiles\/0': value must be one of/,
    ],
    [
      'a too short grace margin',
      { ...REQUIRED_SETS, shutdownMarginSeconds: '0' },
      /'\/shutdownMarginSeconds': minimum/,
    ],
  ];

  test.each(BY_SCHEMA)('%s: helm template and helm lint --strict fail', (_what, set, message) => {
    const t = helmTemplate({ set });
    expect({ status: t.status === 0 ? 'rendered' : 'failed', stderr: t.stderr }).toEqual({
      status: 'failed',
      stderr: expect.stringMatching(message),
    });
    const l = helmLint({ set });
    expect({ status: l.status === 0 ? 'passed' : 'failed', out: l.stdout + l.stderr }).toEqual({
      status: 'failed',
      out: expect.stringMatching(message),
    });
  });

  /**
   * Relations between values: the templates fail (helm template, install, upgrade). helm lint only
   * reports a template `fail` as [INFO] and passes, so it is checked for the message alone.
   */
  const BY_TEMPLATE: ReadonlyArray<[string, Record<string, string>, RegExp]> = [
    [
      'a grace period shorter than pause + shutdown',
      { ...REQUIRED_SETS, terminationGracePeriodSeconds: '20' },
      /terminationGracePeriodSeconds=20 is too short.*= 25/,
    ],
    [
      'a longer shutdown budget without a longer grace period',
      { ...REQUIRED_SETS, shutdownTimeoutMs: '30000' },
      /terminationGracePeriodSeconds=30 is too short.*shutdownTimeoutMs\/1000 \(30\)/,
    ],
    [
      'a longer preStop pause without a longer grace period',
      { ...REQUIRED_SETS, 'lifecycle.preStopSleepSeconds': '20' },
      /terminationGracePeriodSeconds=30 is too short.*lifecycle\.preStopSleepSeconds \(20\)/,
    ],
    [
      'a drain longer than the shutdown budget',
      { ...REQUIRED_SETS, shutdownDrainMs: '20000' },
      /shutdownDrainMs=20000 exceeds shutdownTimeoutMs/,
    ],
    [
      'HTTP bound to loopback',
      { ...REQUIRED_SETS, 'http.host': '127.0.0.1' },
      /http\.host=127\.0\.0\.1 is a loopback address/,
    ],
    [
      'ServiceMonitor and PodMonitor together',
      { ...REQUIRED_SETS, 'metrics.serviceMonitor.enabled': 'true', 'metrics.podMonitor.enabled': 'true' },
      /metrics\.serviceMonitor\.enabled and metrics\.podMonitor\.enabled are both true/,
    ],
    [
      'a Kafka client certificate without its key',
      { ...REQUIRED_SETS, 'secrets.KAFKA_SSL_CERT': 'pem' },
      /secrets\.KAFKA_SSL_CERT and secrets\.KAFKA_SSL_KEY go together/,
    ],
    [
      'a DTLS certificate without its key',
      { ...REQUIRED_SETS, 'secrets.DTLS_SERVER_CERT': 'pem' },
      /secrets\.DTLS_SERVER_CERT needs secrets\.DTLS_SERVER_KEY/,
    ],
    [
      'profiles inline and from a ConfigMap',
      { ...REQUIRED_SETS, existingProfilesConfigMap: 'p', 'profiles.a\\.json.name': 'a' },
      /profiles and existingProfilesConfigMap are both set/,
    ],
  ];

  test.each(BY_TEMPLATE)('%s: helm template fails', (_what, set, message) => {
    const t = helmTemplate({ set });
    expect({ status: t.status === 0 ? 'rendered' : 'failed', stderr: t.stderr }).toEqual({
      status: 'failed',
      stderr: expect.stringMatching(message),
    });
    const l = helmLint({ set });
    expect(l.stdout + l.stderr).toMatch(message);
  });
});
