/**
 * The in-memory datagram pair behaves like a socket: asynchronous, ordered, never re-entrant,
 * lossy or duplicating on request, silent once closed, and usable under jest's fake timers.
 */
import type { Peer, PeerIdentity } from '../../src/transport/types';
import { DEVICE_PEER, MemoryDatagramPair, SERVER_PEER } from '../support/memory-datagram-pair';
import { NoDatagramError } from '../support/scripted-peer';

const IDENTITY: PeerIdentity = { mode: 'psk', name: 'id-1', endpoint: 'ep-1' };
const b = (s: string): Buffer => Buffer.from(s);

let pair: MemoryDatagramPair;
beforeEach(() => {
  pair = new MemoryDatagramPair();
});
afterEach(async () => {
  jest.useRealTimers();
  await pair.close();
});

describe('MemoryDatagramPair', () => {
  it('delivers device datagrams to the server handler later, in order, with source and identity', async () => {
    const got: Array<[string, Peer, PeerIdentity | undefined]> = [];
    pair.server.onDatagram((data, peer, identity) => got.push([data.toString(), peer, identity]));
    const other: Peer = { address: '203.0.113.9', port: 1234 };
    pair.deviceSend(b('one'));
    pair.deviceSend(b('two'), other, IDENTITY);
    expect(got).toEqual([]); // not synchronous
    await pair.settle();
    expect(got).toEqual([
      ['one', DEVICE_PEER, undefined],
      ['two', other, IDENTITY],
    ]);
    expect(pair.server.local()).toEqual(SERVER_PEER);
  });

  it('records server sends at once in the log, and queues them for the device one macrotask later', async () => {
    const secure: Peer = { address: '198.51.100.8', port: 5684, secure: true };
    pair.server.send(b('a'), DEVICE_PEER);
    pair.server.send(b('b'), secure);
    expect(pair.log.map((d) => d.data.toString())).toEqual(['a', 'b']);
    expect(pair.pending).toBe(0);
    const first = await pair.next();
    expect(first).toEqual({ data: b('a'), peer: DEVICE_PEER });
    await pair.settle();
    expect(pair.take()).toEqual([{ data: b('b'), peer: secure }]);
    expect(pair.pending).toBe(0);
  });

  it('never calls the server handler re-entrantly, even when the device answers from inside it', async () => {
    let depth = 0;
    let maxDepth = 0;
    let calls = 0;
    pair.server.onDatagram(() => {
      depth++;
      maxDepth = Math.max(maxDepth, depth);
      calls++;
      if (calls < 3) pair.deviceSend(b('again'));
      depth--;
    });
    pair.deviceSend(b('first'));
    await pair.settle();
    expect(calls).toBe(3);
    expect(maxDepth).toBe(1);
  });

  it('drops and duplicates on request, in either direction', async () => {
    const got: string[] = [];
    pair.server.onDatagram((data) => got.push(data.toString()));
    pair.drop('to-server');
    pair.duplicate('to-server');
    pair.deviceSend(b('lost'));
    pair.deviceSend(b('twice'));
    pair.deviceSend(b('once'));
    pair.drop('to-device', 2);
    pair.duplicate('to-device');
    for (const s of ['x', 'y', 'z', 'w']) pair.server.send(b(s), DEVICE_PEER);
    await pair.settle();
    expect(got).toEqual(['twice', 'twice', 'once']);
    expect(pair.take().map((d) => d.data.toString())).toEqual(['z', 'z', 'w']);
    expect(pair.log.map((d) => d.data.toString())).toEqual(['x', 'y', 'z', 'w']);
    expect(pair.lost).toEqual({ 'to-server': 1, 'to-device': 2 });
  });

  it('stops delivery when closed: in-flight datagrams are lost, later sends go nowhere, a pending next() fails', async () => {
    const got: string[] = [];
    pair.server.onDatagram((data) => got.push(data.toString()));
    pair.deviceSend(b('in flight'));
    pair.server.send(b('in flight too'), DEVICE_PEER);
    const waiting = pair.next();
    await pair.server.close();
    expect(pair.isClosed).toBe(true);
    await expect(waiting).rejects.toThrow('closed');
    pair.deviceSend(b('after'));
    pair.server.send(b('after'), DEVICE_PEER);
    await pair.settle();
    expect(got).toEqual([]);
    expect(pair.pending).toBe(0);
    expect(pair.log.map((d) => d.data.toString())).toEqual(['in flight too']);
  });

  it('delivers, and times out next(), with the clock faked', async () => {
    jest.useFakeTimers();
    const got: string[] = [];
    pair.server.onDatagram((data) => got.push(data.toString()));
    pair.deviceSend(b('under fake timers'));
    await pair.settle();
    expect(got).toEqual(['under fake timers']);
    const started = performance.now();
    await expect(pair.next(20)).rejects.toBeInstanceOf(NoDatagramError);
    expect(performance.now() - started).toBeLessThan(400);
  });
});
