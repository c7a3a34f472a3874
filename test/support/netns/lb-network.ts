/**
 * What a Kubernetes node with kube-proxy builds for a UDP LoadBalancer Service, made with Linux
 * network namespaces (iproute2), nftables and conntrack, so that the bridge is tested behind a
 * real L4 load balancer:
 *
 *   dev ns (devices, 192.168.77.2) ── nat ns (masquerade, random ports: a cellular NAT)
 *        └─ node ns: DNAT of VIP:5683/5684 to the ready pods (numgen random, conntrack keeps a
 *           flow on its pod), Redis and Kafka on the pod bridge's address
 *             └─ pod ns × n (one bridge instance each, 10.244.S.1x)
 *   the test runner (root ns) reaches the node ns over one veth, for Kafka, Redis and the pods' HTTP.
 *
 * Removing a backend does what kube-proxy does: the pod leaves the DNAT rule and the conntrack
 * entries of its flows are deleted, so the devices' next datagrams go to another pod. Every
 * address lives inside the namespaces created here (private ranges, random third octet per run);
 * destroy() removes them all. Needs root, `ip`, `nft` and `conntrack`.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { MissingTestDependencyError, requireOnPath } from '../test-deps';

export const VIP = '10.96.0.10';
export const DEVICE_IP = '192.168.77.2';
/** The devices' public address, after the NAT. */
export const NAT_PUBLIC_IP = '10.100.0.2';
export const COAP_PORT = 5683;
export const COAPS_PORT = 5684;

export interface Pod {
  readonly name: string;
  readonly ns: string;
  readonly ip: string;
}

function sh(command: string, args: readonly string[], input?: string): string {
  try {
    return execFileSync(command, args, {
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(input !== undefined ? { input } : {}),
    });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`${command} ${args.join(' ')} failed: ${stderr.trim() || String(err)}`, { cause: err });
  }
}

/** Namespaces left by a test process that died before destroy() (named lbt-<pid>-...): removed. */
function removeOrphans(): void {
  const names = sh('ip', ['netns', 'list'])
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '');
  for (const name of names) {
    const pid = /^lbt-(\d+)-/.exec(name)?.[1];
    if (pid === undefined || alive(Number(pid))) continue;
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    } catch {
      // removed meanwhile
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export class LbNetwork {
  readonly nodeNs: string;
  readonly natNs: string;
  readonly devNs: string;
  /** The third octet of this run's pod subnet and runner link. */
  private readonly subnet: number;
  private readonly tag: string;
  private readonly pods: Pod[] = [];
  private podCount = 0;
  private rootLink: string;
  private destroyed = false;

  private constructor() {
    this.tag = randomBytes(2).toString('hex');
    this.subnet = 1 + ((randomBytes(1)[0] as number) % 250);
    this.nodeNs = `lbt-${process.pid}-${this.tag}-node`;
    this.natNs = `lbt-${process.pid}-${this.tag}-nat`;
    this.devNs = `lbt-${process.pid}-${this.tag}-dev`;
    this.rootLink = `lbt${this.tag}r`;
  }

  /** The node's address on the pod bridge: where Redis and Kafka listen. */
  get nodeIp(): string {
    return `10.244.${this.subnet}.1`;
  }

  static create(): LbNetwork {
    for (const [tool, pkg] of [
      ['ip', 'iproute2'],
      ['nft', 'nftables'],
      ['conntrack', 'conntrack'],
    ] as const)
      requireOnPath(tool, pkg);
    if (process.getuid?.() !== 0)
      throw new MissingTestDependencyError('root', 'network namespaces, nftables and conntrack need root');
    removeOrphans();
    const net = new LbNetwork();
    try {
      net.build();
    } catch (err) {
      net.destroy();
      throw err;
    }
    return net;
  }

  private ip(ns: string, ...args: string[]): void {
    sh('ip', ['-n', ns, ...args]);
  }

  private inNs(ns: string, command: string, args: readonly string[], input?: string): string {
    return sh('ip', ['netns', 'exec', ns, command, ...args], input);
  }

  private build(): void {
    const s = this.subnet;
    for (const ns of [this.nodeNs, this.natNs, this.devNs]) {
      sh('ip', ['netns', 'add', ns]);
      this.ip(ns, 'link', 'set', 'lo', 'up');
    }
    // The runner's way in: root ns ↔ node ns.
    sh('ip', ['link', 'add', this.rootLink, 'type', 'veth', 'peer', 'name', 'uplink', 'netns', this.nodeNs]);
    sh('ip', ['addr', 'add', `10.250.${s}.1/30`, 'dev', this.rootLink]);
    sh('ip', ['link', 'set', this.rootLink, 'up']);
    this.ip(this.nodeNs, 'addr', 'add', `10.250.${s}.2/30`, 'dev', 'uplink');
    this.ip(this.nodeNs, 'link', 'set', 'uplink', 'up');
    sh('ip', ['route', 'add', `10.244.${s}.0/24`, 'via', `10.250.${s}.2`]);
    // The pod network: a bridge on the node.
    this.ip(this.nodeNs, 'link', 'add', 'cbr0', 'type', 'bridge');
    this.ip(this.nodeNs, 'addr', 'add', `${this.nodeIp}/24`, 'dev', 'cbr0');
    this.ip(this.nodeNs, 'link', 'set', 'cbr0', 'up');
    // node ↔ NAT ↔ devices.
    this.ip(this.nodeNs, 'link', 'add', 'wan', 'type', 'veth', 'peer', 'name', 'wan', 'netns', this.natNs);
    this.ip(this.nodeNs, 'addr', 'add', '10.100.0.1/30', 'dev', 'wan');
    this.ip(this.nodeNs, 'link', 'set', 'wan', 'up');
    this.ip(this.natNs, 'addr', 'add', `${NAT_PUBLIC_IP}/30`, 'dev', 'wan');
    this.ip(this.natNs, 'link', 'set', 'wan', 'up');
    this.ip(this.natNs, 'route', 'add', 'default', 'via', '10.100.0.1');
    this.ip(this.natNs, 'link', 'add', 'lan', 'type', 'veth', 'peer', 'name', 'lan', 'netns', this.devNs);
    this.ip(this.natNs, 'addr', 'add', '192.168.77.1/24', 'dev', 'lan');
    this.ip(this.natNs, 'link', 'set', 'lan', 'up');
    this.ip(this.devNs, 'addr', 'add', `${DEVICE_IP}/24`, 'dev', 'lan');
    this.ip(this.devNs, 'link', 'set', 'lan', 'up');
    this.ip(this.devNs, 'route', 'add', 'default', 'via', '192.168.77.1');
    for (const ns of [this.nodeNs, this.natNs]) this.inNs(ns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    // A cellular NAT: every device flow masqueraded behind one address, on a random port.
    this.inNs(
      this.natNs,
      'nft',
      ['-f', '-'],
      'table ip nat {\n chain post {\n  type nat hook postrouting priority srcnat; policy accept;\n  oifname "wan" masquerade random\n }\n}\n',
    );
    this.setBackends([]);
  }

  /** A new pod namespace on the pod bridge (as the kubelet and the CNI make one). */
  addPod(): Pod {
    const index = ++this.podCount;
    const pod: Pod = {
      name: `pod${index}`,
      ns: `lbt-${process.pid}-${this.tag}-p${index}`,
      ip: `10.244.${this.subnet}.${10 + index}`,
    };
    sh('ip', ['netns', 'add', pod.ns]);
    this.ip(pod.ns, 'link', 'set', 'lo', 'up');
    this.ip(this.nodeNs, 'link', 'add', `veth${index}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod.ns);
    this.ip(this.nodeNs, 'link', 'set', `veth${index}`, 'master', 'cbr0', 'up');
    this.ip(pod.ns, 'addr', 'add', `${pod.ip}/24`, 'dev', 'eth0');
    this.ip(pod.ns, 'link', 'set', 'eth0', 'up');
    this.ip(pod.ns, 'route', 'add', 'default', 'via', this.nodeIp);
    this.pods.push(pod);
    return pod;
  }

  /** Removes a pod's namespace (its processes must have exited). */
  removePod(pod: Pod): void {
    sh('ip', ['netns', 'del', pod.ns]);
    this.pods.splice(this.pods.indexOf(pod), 1);
  }

  /** The Service's endpoints: new flows to the VIP are spread over these pods (kube-proxy's random choice). */
  setBackends(pods: readonly Pod[]): void {
    const rule = (port: number): string => {
      if (pods.length === 0) return `  ip daddr ${VIP} udp dport ${port} drop`;
      const map = pods.map((p, i) => `${i} : ${p.ip}`).join(', ');
      return `  ip daddr ${VIP} udp dport ${port} dnat to numgen random mod ${pods.length} map { ${map} }`;
    };
    const table = `table ip lb {\n chain pre {\n  type nat hook prerouting priority dstnat; policy accept;\n${rule(COAP_PORT)}\n${rule(COAPS_PORT)}\n }\n}\n`;
    // One transaction: the old rule goes and the new one comes at once.
    const flush = this.inNs(this.nodeNs, 'nft', ['list', 'tables']).includes('table ip lb')
      ? 'delete table ip lb\n'
      : '';
    this.inNs(this.nodeNs, 'nft', ['-f', '-'], flush + table);
  }

  /** kube-proxy on an endpoint's removal: deletes the conntrack entries of the flows DNATed to it. Returns how many. */
  forgetFlowsTo(pod: Pod): number {
    return this.deleteConntrack(this.nodeNs, ['-p', 'udp', '--reply-src', pod.ip]);
  }

  /**
   * A NAT rebinding: the NAT forgets the mappings of these device ports, so their next datagram
   * leaves from a new public port. Returns how many mappings were dropped.
   */
  rebind(devicePorts: readonly number[]): number {
    let n = 0;
    for (const port of devicePorts)
      n += this.deleteConntrack(this.natNs, ['-p', 'udp', '--orig-src', DEVICE_IP, '--orig-port-src', String(port)]);
    return n;
  }

  /** The node's conntrack entries of flows from or to this public port of the devices' NAT (diagnostics). */
  nodeFlows(publicPort: number): string[] {
    const lines = (args: string[]): string[] =>
      this.inNs(this.nodeNs, 'conntrack', ['-L', '-p', 'udp', ...args])
        .split('\n')
        .filter((l) => l.startsWith('udp'));
    return [
      ...lines(['--orig-src', NAT_PUBLIC_IP, '--orig-port-src', String(publicPort)]),
      ...lines(['--orig-dst', NAT_PUBLIC_IP, '--orig-port-dst', String(publicPort)]),
    ].map((l) => l.replace(/\s+/g, ' '));
  }

  /** The public port the NAT maps a device's local port to, for its flow to the VIP's CoAP port. */
  publicPort(devicePort: number): number | undefined {
    const out = this.inNs(this.natNs, 'conntrack', [
      '-L',
      '-p',
      'udp',
      '--orig-src',
      DEVICE_IP,
      '--orig-port-src',
      String(devicePort),
      '--orig-port-dst',
      String(COAP_PORT),
    ]);
    // The reply direction comes second on the line: its dport is the public port.
    const ports = [...(out.split('\n').find((l) => l.startsWith('udp')) ?? '').matchAll(/ dport=(\d+)/g)].map((m) =>
      Number(m[1]),
    );
    return ports.length === 2 ? ports[1] : undefined;
  }

  private deleteConntrack(ns: string, filter: readonly string[]): number {
    try {
      const out = execFileSync('ip', ['netns', 'exec', ns, 'conntrack', '-D', ...filter], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      return out.split('\n').filter((l) => l.startsWith('udp')).length;
    } catch (err) {
      // conntrack exits 1 when nothing matched.
      const stderr = (err as { stderr?: string }).stderr ?? '';
      const m = /(\d+) flow entries have been deleted/.exec(stderr);
      if (m !== null) return Number(m[1]);
      throw new Error(`conntrack -D in ${ns} failed: ${stderr.trim()}`, { cause: err });
    }
  }

  /** Removes every namespace and the runner's link and route. Safe to call twice. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    const quiet = (args: string[]): void => {
      try {
        execFileSync('ip', args, { stdio: 'ignore' });
      } catch {
        // already gone
      }
    };
    quiet(['route', 'del', `10.244.${this.subnet}.0/24`]);
    quiet(['link', 'del', this.rootLink]);
    for (const pod of [...this.pods]) quiet(['netns', 'del', pod.ns]);
    for (const ns of [this.devNs, this.natNs, this.nodeNs]) quiet(['netns', 'del', ns]);
  }
}
