/**
 * The Helm chart against a real Kubernetes API server (etcd + kube-apiserver, see
 * test/support/kube-apiserver.ts) with the Prometheus Operator CRDs installed: for the default
 * values and every helm/lwm2m-bridge/examples/values-*.yaml, `helm install --dry-run=server`
 * succeeds and the API server accepts every rendered object in a dry-run create with strict field
 * validation. A negative test shows that this server check rejects what rendering alone lets pass.
 * A missing tool (helm, kube-apiserver, etcd, CRDs) fails the tests: run scripts/ensure-k8s-tools.sh.
 */
import { basename } from 'node:path';
import { CHART_DIR, exampleValuesFiles, REQUIRED_SETS, runHelm } from '../support/helm';
import { KUBE_VERSION, monitoringCrdFiles } from '../support/k8s-tools';
import {
  createNamespace,
  dryRunCreate,
  installCrds,
  kubeCall,
  startKubeApiServer,
  topLevel,
  type KubeApiServer,
} from '../support/kube-apiserver';

const RELEASE = 'lwm2m-bridge';
/** The chart's defaults fail rendering without the deployment-specific values: the default case adds just those. */
const REQUIRED_ARGS = Object.entries(REQUIRED_SETS).flatMap(([key, value]) => ['--set', `${key}=${value}`]);
const cases: Array<[string, string | undefined]> = [
  ['default values', undefined],
  ...exampleValuesFiles().map((file): [string, string] => [basename(file), file]),
];

interface HelmRelease {
  readonly manifest: string;
  readonly hooks?: ReadonlyArray<{ readonly manifest: string }>;
}

let server: KubeApiServer | undefined;

function api(): KubeApiServer {
  if (server === undefined) throw new Error('the API server did not start (see beforeAll)');
  return server;
}

/** `helm install --dry-run=server` into `namespace` (created first); the release as helm reports it. */
async function dryRunInstall(namespace: string, values: string | undefined): Promise<HelmRelease> {
  await createNamespace(api(), namespace);
  // No --kube-version: helm 3's install has no such flag; with --dry-run=server it reads the
  // version from the API server, which the first test checks is KUBE_VERSION.
  const args = [
    'install',
    RELEASE,
    CHART_DIR,
    '--dry-run=server',
    '-o',
    'json',
    '-n',
    namespace,
    '--kubeconfig',
    api().kubeconfig,
  ];
  args.push(...(values !== undefined ? ['-f', values] : REQUIRED_ARGS));
  const result = runHelm(args);
  if (result.status !== 0)
    throw new Error(
      `helm ${args.join(' ')} exited with ${String(result.status)}:\n${result.stderr}${result.stdout.slice(0, 4000)}`,
    );
  return JSON.parse(result.stdout) as HelmRelease;
}

/** The non-empty YAML documents of a rendered release (templates and hooks). */
function documents(release: HelmRelease): string[] {
  const all = [release.manifest, ...(release.hooks ?? []).map((hook) => hook.manifest)].join('\n---\n');
  return all.split(/^---[ \t]*$/m).filter((doc) => topLevel(doc, 'kind') !== undefined);
}

beforeAll(async () => {
  runHelm(['version']); // fails fast (MissingTestDependencyError) when helm is not built
  const crds = monitoringCrdFiles();
  server = await startKubeApiServer();
  await installCrds(server, crds);
}, 300_000);

afterAll(async () => {
  await server?.stop();
});

describe('the chart against a real kube-apiserver', () => {
  test(`the API server is Kubernetes ${KUBE_VERSION}, the version the chart is validated for`, async () => {
    const version = JSON.parse((await kubeCall(api(), 'GET', '/version')).body) as { gitVersion: string };
    expect(version.gitVersion).toBe(`v${KUBE_VERSION}`);
  });

  test.each(cases)(
    'helm install --dry-run=server accepts %s, and so does the server for each object',
    async (_name, values) => {
      const namespace = `dry-run-${cases.findIndex(([, v]) => v === values)}`;
      const release = await dryRunInstall(namespace, values);
      const docs = documents(release);
      expect(docs.some((doc) => topLevel(doc, 'kind') === 'Deployment')).toBe(true);
      const rejected: string[] = [];
      for (const doc of docs) {
        const response = await dryRunCreate(api(), doc, namespace);
        if (response.status !== 201)
          rejected.push(`${topLevel(doc, 'kind') ?? '?'}: HTTP ${response.status}: ${response.body}`);
      }
      expect(rejected).toEqual([]);
    },
    120_000,
  );

  test('the server rejects an invalid enum and an unknown field that rendering lets through', async () => {
    const namespace = 'negative';
    const services = documents(await dryRunInstall(namespace, undefined)).filter(
      (doc) => topLevel(doc, 'kind') === 'Service',
    );
    const service = services.find((doc) => /^\s+type:\s*LoadBalancer\s*$/m.test(doc)) ?? services[0];
    if (service === undefined) throw new Error('the chart renders no Service');
    const accepted = await dryRunCreate(api(), service, namespace);
    expect(accepted.status).toBe(201);
    // The object as the server decoded it, minus what the server assigns on create.
    const decoded = JSON.parse(accepted.body) as {
      apiVersion: string;
      kind: string;
      metadata: { name: string; labels?: Record<string, string> };
      spec: Record<string, unknown>;
    };
    const fresh = {
      apiVersion: decoded.apiVersion,
      kind: decoded.kind,
      metadata: { name: decoded.metadata.name, labels: decoded.metadata.labels },
      spec: { ...decoded.spec, clusterIP: undefined, clusterIPs: undefined },
    };

    const sideways = await dryRunCreate(
      api(),
      { ...fresh, spec: { ...fresh.spec, type: 'LoadBalancer', externalTrafficPolicy: 'Sideways' } },
      namespace,
    );
    expect(sideways.status).toBe(422);
    expect(sideways.body).toMatch(/externalTrafficPolicy.*Unsupported value: \\?"Sideways\\?"/);

    const unknown = await dryRunCreate(
      api(),
      { ...fresh, spec: { ...fresh.spec, trafficDirection: 'Sideways' } },
      namespace,
    );
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatch(/unknown field \\?"spec\.trafficDirection\\?"/);
  }, 120_000);
});
