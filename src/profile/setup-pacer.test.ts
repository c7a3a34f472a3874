import { parsePath } from '../lwm2m/path';
import type { OperationResult } from '../server/downlink/result';
import { FakeDevices } from '../../test/support/profile-doubles';
import { registration } from '../../test/support/profile-fixtures';
import { SetupPacer } from './setup-pacer';

/** An operation the test finishes by hand. */
function gate(log: string[], name: string): { op: () => Promise<string>; finish: () => void } {
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    op: async () => {
      log.push(`start ${name}`);
      await done;
      log.push(`end ${name}`);
      return name;
    },
    finish: () => finish(),
  };
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 50; i++) await Promise.resolve();
};

describe('SetupPacer', () => {
  it('keeps at most `bound` requests outstanding across devices, the others wait in arrival order', async () => {
    const pacer = new SetupPacer(2);
    const log: string[] = [];
    const gates = ['a', 'b', 'c', 'd'].map((ep) => gate(log, ep));
    const results = gates.map((g, i) => pacer.run(`ep-${i}`, g.op));
    await flush();
    expect(log).toEqual(['start a', 'start b']);
    expect(pacer.stats).toEqual({ outstanding: 2, maxOutstanding: 2, waiting: 2 });
    gates[1]?.finish();
    await flush();
    expect(log).toEqual(['start a', 'start b', 'end b', 'start c']);
    gates[0]?.finish();
    gates[2]?.finish();
    gates[3]?.finish();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd']);
    expect(pacer.stats).toEqual({ outstanding: 0, maxOutstanding: 2, waiting: 0 });
  });

  it('sends a device one request at a time (NSTART = 1, RFC 7252 §4.7), whatever the bound', async () => {
    const pacer = new SetupPacer(10);
    const log: string[] = [];
    const first = gate(log, 'first');
    const second = gate(log, 'second');
    const other = gate(log, 'other');
    const runs = [pacer.run('dev', first.op), pacer.run('dev', second.op), pacer.run('dev-2', other.op)];
    await flush();
    expect(log).toEqual(['start first', 'start other']);
    expect(pacer.stats.waiting).toBe(1);
    first.finish();
    await flush();
    expect(log).toEqual(['start first', 'start other', 'end first', 'start second']);
    second.finish();
    other.finish();
    await Promise.all(runs);
    expect(pacer.stats).toEqual({ outstanding: 0, maxOutstanding: 2, waiting: 0 });
  });

  it('frees the slot when a request fails', async () => {
    const pacer = new SetupPacer(1);
    await expect(pacer.run('dev', () => Promise.reject(new Error('no answer')))).rejects.toThrow('no answer');
    expect(await pacer.run('dev', () => Promise.resolve('next'))).toBe('next');
    expect(pacer.stats).toEqual({ outstanding: 0, maxOutstanding: 1, waiting: 0 });
  });

  it('paces the device requests of a wrapped server and passes store lookups through', async () => {
    const devices = new FakeDevices(new Map());
    const reg = registration();
    devices.register(reg);
    const pacer = new SetupPacer(1);
    const server = pacer.wrap(devices);
    let release: () => void = () => undefined;
    const held = pacer.run('someone-else', () => new Promise<void>((resolve) => (release = resolve)));
    const read: Promise<OperationResult> = server.read(reg.endpoint, parsePath('/3/0/0'));
    // The lookup is not a request: it does not wait behind the held slot.
    expect((await server.registration(reg.endpoint)).id).toBe(reg.id);
    await flush();
    expect(devices.calls).toEqual([]);
    release();
    await held;
    await read;
    expect(devices.calls).toEqual(['read /3/0/0']);
    expect(server.events).toBe(devices.events);
  });

  it('refuses a bound that is not a positive integer', () => {
    expect(() => new SetupPacer(0)).toThrow('must be a positive integer, got 0');
  });
});
