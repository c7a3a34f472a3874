/**
 * The per-source-address datagram rate where datagrams arrive (DESIGN invariant 5), on a fake
 * transport and clock: a flooding address is cut to its rate while another address passes,
 * ports share their address's budget, IPv4-mapped addresses count as IPv4, drops are counted.
 */
import { GuardedTransport, SourceGuard } from './guarded-transport';
import { LimitCounters } from './limit-counters';
import { TokenBuckets } from './token-buckets';
import type { DatagramHandler, DatagramTransport, Peer } from './types';

class FakeTransport implements DatagramTransport {
  handler: DatagramHandler = () => undefined;
  readonly sent: Array<{ data: Buffer; peer: Peer }> = [];
  send(data: Buffer, peer: Peer): void {
    this.sent.push({ data, peer });
  }
  onDatagram(h: DatagramHandler): void {
    this.handler = h;
  }
  local(): Peer {
    return { address: '127.0.0.1', port: 5683 };
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function setup(perSecond: number, burst: number) {
  let t = 0;
  const counters = new LimitCounters();
  const inner = new FakeTransport();
  const guarded = new GuardedTransport(
    inner,
    new SourceGuard(new TokenBuckets({ perSecond, burst }, 1000, () => t), counters),
  );
  const got: string[] = [];
  guarded.onDatagram((_d, p) => void got.push(`${p.address}:${p.port}`));
  const from = (address: string, port = 5000) => inner.handler(Buffer.from([0x40]), { address, port });
  return { inner, guarded, counters, got, from, advance: (ms: number) => void (t += ms) };
}

describe('GuardedTransport', () => {
  it('drops a flooding source beyond its burst and rate, counting source-rate, while another source passes', () => {
    const s = setup(10, 5);
    for (let i = 0; i < 100; i++) s.from('198.51.100.1');
    s.from('198.51.100.2');
    expect(s.got.filter((g) => g.startsWith('198.51.100.1:'))).toHaveLength(5);
    expect(s.got).toContain('198.51.100.2:5000');
    expect(s.counters.get('source-rate')).toBe(95);
    s.advance(1000);
    for (let i = 0; i < 100; i++) s.from('198.51.100.1');
    expect(s.got.filter((g) => g.startsWith('198.51.100.1:'))).toHaveLength(10); // 10 more after a second at 10/s
  });

  it('counts every port of an address against one budget', () => {
    const s = setup(1, 3);
    for (let port = 1000; port < 1010; port++) s.from('203.0.113.9', port);
    expect(s.got).toHaveLength(3);
  });

  it('counts an IPv4-mapped IPv6 source as its IPv4 address', () => {
    const s = setup(1, 2);
    s.from('203.0.113.9');
    s.from('::ffff:203.0.113.9');
    s.from('203.0.113.9');
    expect(s.got).toEqual(['203.0.113.9:5000', '::ffff:203.0.113.9:5000']);
  });

  it('sends, reports its local address and closes through the inner transport', async () => {
    const s = setup(1, 1);
    s.guarded.send(Buffer.from('x'), { address: '192.0.2.1', port: 1 });
    expect(s.inner.sent).toHaveLength(1);
    expect(s.guarded.local()).toEqual({ address: '127.0.0.1', port: 5683 });
    await expect(s.guarded.close()).resolves.toBeUndefined();
  });
});
