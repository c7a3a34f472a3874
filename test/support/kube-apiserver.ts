/**
 * A real Kubernetes API server for the deploy tests: etcd and kube-apiserver (built by
 * scripts/ensure-k8s-tools.sh) on free loopback ports, in a temporary directory, with a
 * self-signed serving certificate, a service-account signing key, and a static token for a user in
 * system:masters (authorization: RBAC). Readiness is polled on /readyz.
 *
 *   const k8s = await startKubeApiServer();
 *   await createNamespace(k8s, 'demo');          // helm ... --kubeconfig k8s.kubeconfig
 *   await k8s.stop();
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import {
  createTempDir,
  describeExit,
  findFreePorts,
  forgetTempDir,
  ManagedProcess,
  pollUntil,
} from '../infra/managed-process';
import { etcdBinary, kubeApiserverBinary } from './k8s-tools';
import { requireOnPath } from './test-deps';

export interface KubeApiServer {
  /** Path of a kubeconfig file (server URL, CA, token) for helm and other clients. */
  readonly kubeconfig: string;
  /** https://127.0.0.1:<port> */
  readonly url: string;
  readonly token: string;
  /** The serving certificate (self-signed, so also the CA), PEM. */
  readonly ca: string;
  /** The tail of the API server's and etcd's output, for diagnostics. */
  logs(): string;
  /** Stops both processes and removes the directory. Safe to call twice. */
  stop(): Promise<void>;
}

export interface KubeResponse {
  readonly status: number;
  readonly body: string;
}

const HOST = '127.0.0.1';
const STOP_GRACE_MS = 10_000;
const START_ATTEMPTS = 3;

/** One HTTPS request to the API server; `body` is sent as JSON, or as YAML when a string. */
export function kubeRequest(
  server: Pick<KubeApiServer, 'url' | 'token' | 'ca'>,
  method: string,
  path: string,
  body?: unknown,
): Promise<KubeResponse> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string> = { authorization: `Bearer ${server.token}`, accept: 'application/json' };
  if (payload !== undefined)
    headers['content-type'] = typeof body === 'string' ? 'application/yaml' : 'application/json';
  return new Promise<KubeResponse>((resolve, reject) => {
    const req = request(new URL(path, server.url), { method, headers, ca: server.ca, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Like kubeRequest, but rejects unless the status is 2xx (or listed in `alsoOk`). */
export async function kubeCall(
  server: Pick<KubeApiServer, 'url' | 'token' | 'ca'>,
  method: string,
  path: string,
  body?: unknown,
  alsoOk: readonly number[] = [],
): Promise<KubeResponse> {
  const response = await kubeRequest(server, method, path, body);
  if ((response.status < 200 || response.status > 299) && !alsoOk.includes(response.status)) {
    throw new Error(`${method} ${path}: HTTP ${response.status}: ${response.body.slice(0, 2000)}`);
  }
  return response;
}

export async function createNamespace(server: KubeApiServer, name: string): Promise<void> {
  await kubeCall(
    server,
    'POST',
    '/api/v1/namespaces',
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
    [409],
  );
}

/** An object in its JSON form. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly [field: string]: unknown;
}

interface ApiResource {
  readonly name: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

/** The REST collection path of `kind` in `apiVersion`, found by discovery, e.g. /api/v1/namespaces/ns/services. */
export async function collectionPath(
  server: KubeApiServer,
  apiVersion: string,
  kind: string,
  namespace: string,
): Promise<string> {
  const groupPath = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const list = JSON.parse((await kubeCall(server, 'GET', groupPath)).body) as { resources: ApiResource[] };
  const resource = list.resources.find((r) => r.kind === kind && !r.name.includes('/'));
  if (resource === undefined) throw new Error(`the API server serves no kind ${kind} in ${apiVersion}`);
  return resource.namespaced
    ? `${groupPath}/namespaces/${namespace}/${resource.name}`
    : `${groupPath}/${resource.name}`;
}

/** A top-level scalar field of one YAML document, e.g. topLevel(doc, 'kind'). */
export function topLevel(yamlDocument: string, field: string): string | undefined {
  return new RegExp(`^${field}:[ \\t]*["']?([^\\s"'#]+)`, 'm').exec(yamlDocument)?.[1];
}

/**
 * Server-side dry-run create of one object (a YAML document, or a JSON-ready object) with strict
 * field validation: the API server decodes, defaults, validates and admits it, and stores nothing.
 */
export async function dryRunCreate(
  server: KubeApiServer,
  manifest: string | KubeObject,
  namespace: string,
): Promise<KubeResponse> {
  const apiVersion = typeof manifest === 'string' ? topLevel(manifest, 'apiVersion') : manifest.apiVersion;
  const kind = typeof manifest === 'string' ? topLevel(manifest, 'kind') : manifest.kind;
  if (apiVersion === undefined || kind === undefined) throw new Error(`no apiVersion/kind in:\n${String(manifest)}`);
  const path = await collectionPath(server, apiVersion, kind, namespace);
  return kubeRequest(server, 'POST', `${path}?dryRun=All&fieldValidation=Strict`, manifest);
}

interface Condition {
  readonly type: string;
  readonly status: string;
}

/**
 * Creates CustomResourceDefinitions from YAML files (one CRD each) and waits until every one is
 * Established and served by discovery.
 */
export async function installCrds(server: KubeApiServer, files: readonly string[]): Promise<void> {
  const base = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
  const names: string[] = [];
  for (const file of files) {
    const created = await kubeCall(server, 'POST', base, await readFile(file, 'utf8'), [409]);
    const name =
      created.status === 409
        ? /^ {2}name:\s*(\S+)/m.exec(await readFile(file, 'utf8'))?.[1]
        : (JSON.parse(created.body) as { metadata: { name: string } }).metadata.name;
    if (name === undefined) throw new Error(`no CRD name in ${file}`);
    names.push(name);
  }
  for (const name of names) {
    await pollUntil(
      async () => {
        const crd = JSON.parse((await kubeCall(server, 'GET', `${base}/${name}`)).body) as {
          spec: { group: string; versions: Array<{ name: string }> };
          status?: { conditions?: Condition[] };
        };
        if (!(crd.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True'))
          throw new Error(`CRD ${name} not Established yet`);
        for (const version of crd.spec.versions)
          await kubeCall(server, 'GET', `/apis/${crd.spec.group}/${version.name}`);
      },
      { timeoutMs: 60_000, intervalMs: 200, what: `CRD ${name}` },
    );
  }
}

function makeCredentials(dir: string): {
  servingCert: string;
  servingKey: string;
  saKey: string;
  saPublicKey: string;
  tokenFile: string;
  token: string;
  ca: string;
} {
  const openssl = requireOnPath('openssl', 'openssl');
  const servingCert = join(dir, 'serving.crt');
  const servingKey = join(dir, 'serving.key');
  execFileSync(
    openssl,
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=lwm2m-test-kube-apiserver',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      servingKey,
      '-out',
      servingCert,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const saKey = join(dir, 'service-account.key');
  const saPublicKey = join(dir, 'service-account.pub');
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  writeFileSync(saKey, privateKey.export({ type: 'sec1', format: 'pem' }), { mode: 0o600 });
  writeFileSync(saPublicKey, publicKey.export({ type: 'spki', format: 'pem' }));
  const token = randomBytes(24).toString('hex');
  const tokenFile = join(dir, 'tokens.csv');
  writeFileSync(tokenFile, `${token},lwm2m-test-admin,lwm2m-test-admin,"system:masters"\n`, { mode: 0o600 });
  return {
    servingCert,
    servingKey,
    saKey,
    saPublicKey,
    tokenFile,
    token,
    ca: execFileSync(openssl, ['x509', '-in', servingCert], { encoding: 'utf8' }),
  };
}

function writeKubeconfig(path: string, url: string, ca: string, token: string): void {
  // JSON is YAML: client-go and helm read it as a kubeconfig.
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'test', cluster: { server: url, 'certificate-authority-data': Buffer.from(ca).toString('base64') } },
    ],
    users: [{ name: 'test-admin', user: { token } }],
    contexts: [{ name: 'test', context: { cluster: 'test', user: 'test-admin' } }],
    'current-context': 'test',
  };
  writeFileSync(path, JSON.stringify(config, null, 2), { mode: 0o600 });
}

function startEtcd(dir: string, clientPort: number, peerPort: number): ManagedProcess {
  const client = `http://${HOST}:${clientPort}`;
  const peer = `http://${HOST}:${peerPort}`;
  return ManagedProcess.spawn({
    name: 'etcd',
    command: etcdBinary(),
    args: [
      '--name=test',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=test=${peer}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
  });
}

function startApiServer(
  dir: string,
  etcdPort: number,
  port: number,
  creds: ReturnType<typeof makeCredentials>,
): ManagedProcess {
  return ManagedProcess.spawn({
    name: 'kube-apiserver',
    command: kubeApiserverBinary(),
    args: [
      `--etcd-servers=http://${HOST}:${etcdPort}`,
      `--bind-address=${HOST}`,
      `--advertise-address=${HOST}`,
      `--secure-port=${port}`,
      `--cert-dir=${join(dir, 'certs')}`,
      `--tls-cert-file=${creds.servingCert}`,
      `--tls-private-key-file=${creds.servingKey}`,
      `--token-auth-file=${creds.tokenFile}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${creds.saPublicKey}`,
      `--service-account-signing-key-file=${creds.saKey}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      '--allow-privileged=true',
      '--profiling=false',
    ],
  });
}

async function stopAll(processes: readonly ManagedProcess[]): Promise<void> {
  for (const child of processes) await child.stop(STOP_GRACE_MS);
}

/** Starts etcd and kube-apiserver; retries with new ports when one was taken meanwhile. */
export async function startKubeApiServer(readyTimeoutMs = 180_000): Promise<KubeApiServer> {
  kubeApiserverBinary();
  etcdBinary();
  const dir = await createTempDir('kube-apiserver');
  const creds = makeCredentials(dir);
  const kubeconfig = join(dir, 'kubeconfig');
  for (let attempt = 1; ; attempt++) {
    const [etcdPort, peerPort, port] = await findFreePorts(3, HOST);
    const url = `https://${HOST}:${port}`;
    const etcd = startEtcd(join(dir, `attempt-${attempt}`), etcdPort, peerPort);
    const apiserver = startApiServer(dir, etcdPort, port, creds);
    const logs = (): string =>
      `--- etcd ---\n${etcd.output().slice(-8000)}\n--- kube-apiserver ---\n${apiserver.output().slice(-16000)}`;
    const died = (): string | undefined => {
      for (const p of [etcd, apiserver]) if (p.exit !== undefined) return `${p.name} ${describeExit(p.exit)}`;
      return undefined;
    };
    try {
      await pollUntil(
        async () => {
          const response = await kubeRequest({ url, token: creds.token, ca: creds.ca }, 'GET', '/readyz');
          if (response.status !== 200 || response.body.trim() !== 'ok')
            throw new Error(`/readyz: HTTP ${response.status}: ${response.body.slice(-500)}`);
        },
        { timeoutMs: readyTimeoutMs, intervalMs: 250, what: 'kube-apiserver /readyz', abortReason: died },
      );
    } catch (error) {
      await stopAll([apiserver, etcd]);
      const inUse = /address already in use/i.test(logs());
      if (inUse && attempt < START_ATTEMPTS) continue;
      rmSync(dir, { recursive: true, force: true });
      forgetTempDir(dir);
      throw new Error(`${(error as Error).message}\n${logs()}`, { cause: error });
    }
    writeKubeconfig(kubeconfig, url, creds.ca, creds.token);
    let stopped = false;
    return {
      kubeconfig,
      url,
      token: creds.token,
      ca: creds.ca,
      logs,
      async stop() {
        if (stopped) return;
        stopped = true;
        await stopAll([apiserver, etcd]);
        rmSync(dir, { recursive: true, force: true });
        forgetTempDir(dir);
      },
    };
  }
}
