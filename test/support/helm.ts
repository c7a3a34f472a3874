/**
 * Runs helm (the binary from test/support/k8s-tools.ts, always with --kube-version) on the chart
 * in helm/lwm2m-bridge and parses what `helm template` renders into typed Kubernetes objects, for
 * the deploy tests. helm runs with its own empty config/cache/data directories.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { helmBinary, KUBE_VERSION } from './k8s-tools';
import { REPO_ROOT } from './test-deps';

export const CHART_DIR = join(REPO_ROOT, 'helm', 'lwm2m-bridge');
export const EXAMPLES_DIR = join(CHART_DIR, 'examples');
export const RELEASE = 'lwm2m';
export const NAMESPACE = 'iot';

/** The values the chart cannot render without (defaults leave them empty on purpose). */
export const REQUIRED_SETS: Readonly<Record<string, string>> = {
  'redis.url': 'redis://redis:6379',
  'kafka.brokers': 'kafka:9092',
  'secrets.HTTP_API_TOKEN': 'test-api-token',
  'secrets.DTLS_SHARED_SECRET': 'test-shared-secret-0123456789',
};

/** Every examples/values-*.yaml, sorted (the glob the server-side install test uses too). */
export function exampleValuesFiles(): string[] {
  return readdirSync(EXAMPLES_DIR)
    .filter((f) => /^values-.+\.yaml$/.test(f))
    .sort()
    .map((f) => join(EXAMPLES_DIR, f));
}

export interface HelmResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RenderOptions {
  /** -f files, in order. */
  readonly valuesFiles?: readonly string[];
  /** --set key=value pairs (values must not contain commas). */
  readonly set?: Readonly<Record<string, string>>;
  /** Values written to a temporary file and passed last with -f (for multi-line strings). */
  readonly values?: Readonly<Record<string, unknown>>;
}

let scratch: string | undefined;
function scratchDir(): string {
  scratch ??= mkdtempSync(join(tmpdir(), 'lwm2m-helm-'));
  return scratch;
}

function helmEnv(): NodeJS.ProcessEnv {
  const dir = scratchDir();
  return {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    HELM_CONFIG_HOME: join(dir, 'config'),
    HELM_CACHE_HOME: join(dir, 'cache'),
    HELM_DATA_HOME: join(dir, 'data'),
    KUBECONFIG: join(dir, 'no-kubeconfig'),
  };
}

let valuesFileCount = 0;
function valueArgs(opts: RenderOptions): string[] {
  const args: string[] = [];
  for (const f of opts.valuesFiles ?? []) args.push('-f', f);
  for (const [k, v] of Object.entries(opts.set ?? {})) args.push('--set', `${k}=${v}`);
  if (opts.values !== undefined) {
    const file = join(scratchDir(), `values-${++valuesFileCount}.yaml`);
    writeFileSync(file, stringify(opts.values));
    args.push('-f', file);
  }
  return args;
}

/** Runs helm with the given arguments; throws MissingTestDependencyError when helm is absent. */
export function runHelm(args: readonly string[]): HelmResult {
  const r = spawnSync(helmBinary(), args, {
    encoding: 'utf8',
    env: helmEnv(),
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function helmLint(opts: RenderOptions = {}): HelmResult {
  return runHelm(['lint', '--strict', '--kube-version', KUBE_VERSION, CHART_DIR, ...valueArgs(opts)]);
}

export function helmTemplate(opts: RenderOptions = {}): HelmResult {
  return runHelm([
    'template',
    RELEASE,
    CHART_DIR,
    '--namespace',
    NAMESPACE,
    '--kube-version',
    KUBE_VERSION,
    ...valueArgs(opts),
  ]);
}

// --- the parts of Kubernetes objects the tests read -------------------------------------------

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ObjectMeta;
}

export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: {
    readonly fieldRef?: { readonly fieldPath: string };
    readonly secretKeyRef?: { readonly name: string; readonly key: string; readonly optional?: boolean };
    readonly configMapKeyRef?: { readonly name: string; readonly key: string };
  };
}

export interface Probe {
  readonly httpGet?: { readonly path: string; readonly port: string | number };
  readonly periodSeconds?: number;
  readonly failureThreshold?: number;
}

export interface ContainerPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol?: string;
}

export interface Container {
  readonly name: string;
  readonly image: string;
  readonly ports?: readonly ContainerPort[];
  readonly env?: readonly EnvVar[];
  readonly envFrom?: ReadonlyArray<{
    readonly configMapRef?: { readonly name: string };
    readonly secretRef?: { readonly name: string };
  }>;
  readonly livenessProbe?: Probe;
  readonly readinessProbe?: Probe;
  readonly startupProbe?: Probe;
  readonly lifecycle?: {
    readonly preStop?: {
      readonly sleep?: { readonly seconds: number };
      readonly exec?: { readonly command: readonly string[] };
    };
  };
  readonly securityContext?: {
    readonly runAsNonRoot?: boolean;
    readonly runAsUser?: number;
    readonly readOnlyRootFilesystem?: boolean;
    readonly allowPrivilegeEscalation?: boolean;
    readonly capabilities?: { readonly drop?: readonly string[]; readonly add?: readonly string[] };
    readonly seccompProfile?: { readonly type: string };
  };
  readonly volumeMounts?: ReadonlyArray<{
    readonly name: string;
    readonly mountPath: string;
    readonly readOnly?: boolean;
  }>;
  readonly resources?: {
    readonly requests?: Readonly<Record<string, string>>;
    readonly limits?: Readonly<Record<string, string>>;
  };
}

export interface Volume {
  readonly name: string;
  readonly emptyDir?: Readonly<Record<string, unknown>>;
  readonly configMap?: { readonly name: string };
  readonly secret?: {
    readonly secretName: string;
    readonly items?: ReadonlyArray<{ readonly key: string; readonly path: string }>;
  };
}

export interface PodSpec {
  readonly containers: readonly Container[];
  readonly volumes?: readonly Volume[];
  readonly securityContext?: {
    readonly runAsNonRoot?: boolean;
    readonly runAsUser?: number;
    readonly fsGroup?: number;
    readonly seccompProfile?: { readonly type: string };
  };
  readonly terminationGracePeriodSeconds?: number;
  readonly serviceAccountName?: string;
  readonly automountServiceAccountToken?: boolean;
  readonly topologySpreadConstraints?: ReadonlyArray<{
    readonly topologyKey: string;
    readonly whenUnsatisfiable: string;
    readonly maxSkew: number;
  }>;
}

export interface Deployment extends K8sObject {
  readonly spec: {
    readonly replicas?: number;
    readonly strategy: {
      readonly type: string;
      readonly rollingUpdate?: { readonly maxUnavailable?: number | string; readonly maxSurge?: number | string };
    };
    readonly selector: { readonly matchLabels: Readonly<Record<string, string>> };
    readonly template: {
      readonly metadata: {
        readonly labels?: Readonly<Record<string, string>>;
        readonly annotations?: Readonly<Record<string, string>>;
      };
      readonly spec: PodSpec;
    };
  };
}

export interface ServicePort {
  readonly name?: string;
  readonly protocol?: string;
  readonly port: number;
  readonly targetPort?: string | number;
}

export interface Service extends K8sObject {
  readonly spec: {
    readonly type?: string;
    readonly externalTrafficPolicy?: string;
    readonly sessionAffinity?: string;
    readonly sessionAffinityConfig?: { readonly clientIP?: { readonly timeoutSeconds?: number } };
    readonly selector?: Readonly<Record<string, string>>;
    readonly ports: readonly ServicePort[];
  };
}

export interface ConfigMap extends K8sObject {
  readonly data?: Readonly<Record<string, string>>;
}

export interface Secret extends K8sObject {
  readonly data?: Readonly<Record<string, string>>;
}

export interface MonitorEndpoint {
  readonly port?: string;
  readonly path?: string;
}

export interface ServiceMonitor extends K8sObject {
  readonly spec: {
    readonly selector: { readonly matchLabels: Readonly<Record<string, string>> };
    readonly endpoints: readonly MonitorEndpoint[];
  };
}

export interface PodMonitor extends K8sObject {
  readonly spec: {
    readonly selector: { readonly matchLabels: Readonly<Record<string, string>> };
    readonly podMetricsEndpoints: readonly MonitorEndpoint[];
  };
}

export interface PrometheusRule extends K8sObject {
  readonly spec: {
    readonly groups: ReadonlyArray<{
      readonly name: string;
      readonly rules: ReadonlyArray<{
        readonly alert?: string;
        readonly record?: string;
        readonly expr: string;
        readonly labels?: Readonly<Record<string, string>>;
      }>;
    }>;
  };
}

function isK8sObject(v: unknown): v is K8sObject {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } };
  return typeof o.apiVersion === 'string' && typeof o.kind === 'string' && typeof o.metadata?.name === 'string';
}

/** The objects of a multi-document YAML stream (empty documents skipped). */
export function parseManifests(text: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0)
      throw new Error(`rendered YAML does not parse: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (!isK8sObject(value))
      throw new Error(`rendered document is not a Kubernetes object: ${JSON.stringify(value).slice(0, 200)}`);
    out.push(value);
  }
  return out;
}

/** Renders the chart; throws with helm's message when rendering fails. */
export function renderChart(opts: RenderOptions = {}): Rendered {
  const r = helmTemplate(opts);
  if (r.status !== 0) throw new Error(`helm template failed (${String(r.status)}):\n${r.stderr}`);
  return new Rendered(parseManifests(r.stdout));
}

/** The objects of one render, looked up by kind. */
export class Rendered {
  constructor(readonly objects: readonly K8sObject[]) {}

  all<T extends K8sObject>(kind: string): T[] {
    return this.objects.filter((o) => o.kind === kind) as T[];
  }

  one<T extends K8sObject>(kind: string, nameSuffix = ''): T {
    const found = this.all<T>(kind).filter((o) => o.metadata.name.endsWith(nameSuffix));
    if (found.length !== 1) throw new Error(`expected one ${kind} named *${nameSuffix}, found ${found.length}`);
    return found[0] as T;
  }

  maybe<T extends K8sObject>(kind: string): T | undefined {
    return this.all<T>(kind)[0];
  }

  get deployment(): Deployment {
    return this.one<Deployment>('Deployment');
  }

  get container(): Container {
    const c = this.deployment.spec.template.spec.containers.find((x) => x.name === 'bridge');
    if (c === undefined) throw new Error('no container "bridge" in the Deployment');
    return c;
  }

  /** The ConfigMap the container loads with envFrom. */
  get envConfigMap(): ConfigMap {
    const refs = (this.container.envFrom ?? []).flatMap((e) => (e.configMapRef ? [e.configMapRef.name] : []));
    if (refs.length !== 1) throw new Error(`expected one envFrom configMapRef, found ${refs.length}`);
    const cm = this.all<ConfigMap>('ConfigMap').find((c) => c.metadata.name === refs[0]);
    if (cm === undefined) throw new Error(`ConfigMap ${String(refs[0])} is not rendered`);
    return cm;
  }

  secret(name: string): Secret | undefined {
    return this.all<Secret>('Secret').find((s) => s.metadata.name === name);
  }
}
