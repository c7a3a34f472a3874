/**
 * Interoperability with a real LwM2M client nobody here wrote: Eclipse Leshan's client
 * (leshan-client-cf 2.0.0-M15) in its own JVM, against our server on a real UDP port 0.
 * Every operation runs in several content formats.
 */
import { ContentFormat } from '../../src/lwm2m/codec/types';
import { instance, single, type LwM2mNode } from '../../src/lwm2m/node';
import { parsePath } from '../../src/lwm2m/path';
import { startLeshanClient, type LeshanClientHandle } from '../support/leshan-client';
import { startTestServer, type TestServer } from '../support/test-server';

let srv: TestServer;
let client: LeshanClientHandle;
const EP = 'leshan-interop-1';

beforeAll(async () => {
  srv = await startTestServer({
    requestTimeoutMs: 15_000,
    transmission: { ackTimeoutMs: 2000, ackRandomFactor: 1.5, maxRetransmit: 4 },
  });
  client = await startLeshanClient({ serverPort: srv.address.port, endpoint: EP, lifetime: 300, tickMs: 200 });
  await client.waitFor(/^REGISTERED /, 30_000);
}, 60_000);

afterAll(async () => {
  await client?.stop();
  await srv?.stop();
});

const valueOf = (node: LwM2mNode | undefined): unknown =>
  node && (node.kind === 'resource' || node.kind === 'resourceInstance') ? node.value : undefined;

describe('registration from the Leshan client', () => {
  it('registers as LwM2M 1.1 with its objects and content formats', async () => {
    const e = await srv.waitForEvent('registered', (x) => x.registration.endpoint === EP);
    expect(e.registration.lwm2mVersion).toBe('1.1');
    const ids = e.registration.objects.map((o) => o.objectId);
    expect(ids).toEqual(expect.arrayContaining([1, 3, 4, 6, 3303]));
    expect(e.registration.objects.find((o) => o.objectId === 3303)?.instances).toEqual([0]);
    expect(e.registration.port).toBeGreaterThan(0);
  });
});

const FORMATS: Array<[string, number]> = [
  ['TLV', ContentFormat.TLV],
  ['SenML JSON', ContentFormat.SENML_JSON],
  ['SenML CBOR', ContentFormat.SENML_CBOR],
  ['LwM2M JSON', ContentFormat.JSON],
];

describe.each(FORMATS)('in %s', (_name, format) => {
  it('reads an object instance with typed values', async () => {
    const r = await srv.server.read(EP, parsePath('/3/0'), { format });
    expect(r.result).toBe('CONTENT');
    expect(r.contentFormat).toBe(format);
    expect(r.node?.kind).toBe('instance');
    if (r.node?.kind !== 'instance') return;
    expect(r.node.resources.get(0)).toMatchObject({ kind: 'resource', type: 'STRING', value: 'Leshan Test Devices' });
    expect(r.node.resources.get(9)).toMatchObject({ kind: 'resource', type: 'INTEGER', value: 87 });
    expect(r.node.resources.get(13)).toMatchObject({ kind: 'resource', type: 'TIME' });
    const power = r.node.resources.get(6);
    expect(power?.kind).toBe('multiResource');
    if (power?.kind === 'multiResource')
      expect([...power.instances.entries()]).toEqual([
        [0, 1],
        [1, 5],
      ]);
  });

  it('reads a single resource and a whole object', async () => {
    const r = await srv.server.read(EP, parsePath('/3303/0/5700'), { format });
    expect(r.result).toBe('CONTENT');
    expect(typeof valueOf(r.node)).toBe('number');
    const o = await srv.server.read(EP, parsePath('/3303'), { format });
    expect(o.node?.kind).toBe('object');
  });

  it('writes a resource (replace) and reads it back', async () => {
    const tz = `Zone/${format}`;
    const w = await srv.server.write(EP, parsePath('/3/0/15'), single(15, 'STRING', tz), 'replace', { format });
    expect(w.result).toBe('CHANGED');
    await client.waitFor(new RegExp(`^WRITTEN /3/0/15 ${tz.replace('/', '\\/')}`));
    const r = await srv.server.read(EP, parsePath('/3/0/15'), { format });
    expect(valueOf(r.node)).toBe(tz);
  });

  it('writes an instance partially (update) with several resources', async () => {
    const node = instance(0, [single(14, 'STRING', '+02:00'), single(15, 'STRING', `Europe/Berlin-${format}`)]);
    const w = await srv.server.write(EP, parsePath('/3/0'), node, 'update', { format });
    expect(w.result).toBe('CHANGED');
    const r = await srv.server.read(EP, parsePath('/3/0/14'), { format });
    expect(valueOf(r.node)).toBe('+02:00');
  });

  it('observes a resource, receives notifications, and cancels', async () => {
    const before = srv.events.filter((e) => e.type === 'notification').length;
    const o = await srv.server.observe(EP, parsePath('/3303/0/5700'), { format });
    expect(o.result).toBe('CONTENT');
    expect(o.observation).toBeDefined();
    const token = o.observation?.token;
    await srv.waitForEvent(
      'notification',
      (e) => e.observation.token === token && typeof valueOf(e.nodes.get('/3303/0/5700') ?? undefined) === 'number',
    );
    expect(srv.events.filter((e) => e.type === 'notification').length).toBeGreaterThan(before);
    expect(await srv.server.cancelObservations(EP, { kind: 'single', paths: ['/3303/0/5700'] }, 'active')).toBe(1);
  });

  it('creates and deletes an object instance', async () => {
    const iid = 10 + FORMATS.findIndex(([, f]) => f === format);
    const node = instance(iid, [single(5700, 'FLOAT', 12.5), single(5701, 'STRING', 'Cel')]);
    const c = await srv.server.create(EP, 3303, [node], { format });
    expect(c.result).toBe('CREATED');
    await client.waitFor(new RegExp(`^CREATED /3303/${iid}$`));
    const r = await srv.server.read(EP, parsePath(`/3303/${iid}/5700`), { format });
    expect(valueOf(r.node)).toBe(12.5);
    const d = await srv.server.delete(EP, parsePath(`/3303/${iid}`));
    expect(d.result).toBe('DELETED');
    await client.waitFor(new RegExp(`^DELETED /3303/${iid}$`));
    expect((await srv.server.read(EP, parsePath(`/3303/${iid}`), { format })).result).toBe('NOT_FOUND');
  });
});

describe('operations independent of the format', () => {
  it('reads single values as text/plain and CBOR', async () => {
    for (const format of [ContentFormat.TEXT, ContentFormat.CBOR]) {
      const r = await srv.server.read(EP, parsePath('/3/0/9'), { format });
      expect(r.contentFormat).toBe(format);
      expect(valueOf(r.node)).toBe(87);
    }
  });

  it('discovers an object', async () => {
    const r = await srv.server.discover(EP, parsePath('/3'));
    expect(r.result).toBe('CONTENT');
    const uris = r.links?.map((l) => l.uri) ?? [];
    expect(uris).toEqual(expect.arrayContaining(['/3', '/3/0', '/3/0/0', '/3/0/9']));
  });

  it('executes a resource with arguments', async () => {
    const r = await srv.server.execute(EP, parsePath('/3/0/4'), "0='now',1");
    expect(r.result).toBe('CHANGED');
    const line = await client.waitFor(/^EXECUTED \/3\/0\/4/);
    expect(line).toContain("0='now'");
  });

  it('writes notification attributes and rejects bad ones before sending', async () => {
    const r = await srv.server.writeAttributes(EP, parsePath('/3303/0/5700'), {
      pmin: 1,
      pmax: 30,
      gt: 30,
      lt: 10,
      st: 1,
    });
    expect(r.result).toBe('CHANGED');
    await expect(srv.server.writeAttributes(EP, parsePath('/3303/0/5700'), { pmin: 10, pmax: 5 })).rejects.toThrow(
      /pmax/,
    );
  });

  it('reads several paths at once (Read-Composite) in SenML JSON and CBOR', async () => {
    for (const format of [ContentFormat.SENML_JSON, ContentFormat.SENML_CBOR]) {
      const r = await srv.server.readComposite(
        EP,
        [parsePath('/3/0/9'), parsePath('/3303/0/5700'), parsePath('/6/0')],
        { format },
      );
      expect(r.result).toBe('CONTENT');
      expect(valueOf(r.nodes?.get('/3/0/9') ?? undefined)).toBe(87);
      expect(typeof valueOf(r.nodes?.get('/3303/0/5700') ?? undefined)).toBe('number');
      expect(r.nodes?.get('/6/0')?.kind).toBe('instance');
    }
  });

  it('writes several paths at once (Write-Composite)', async () => {
    const nodes = new Map<string, LwM2mNode | null>([
      ['/3/0/14', single(14, 'STRING', '+05:00')],
      ['/3/0/15', single(15, 'STRING', 'Asia/Karachi')],
    ]);
    const r = await srv.server.writeComposite(EP, nodes, { format: ContentFormat.SENML_CBOR });
    expect(r.result).toBe('CHANGED');
    expect(valueOf((await srv.server.read(EP, parsePath('/3/0/15'))).node)).toBe('Asia/Karachi');
  });

  it('observes several paths at once (Observe-Composite) and cancels', async () => {
    const o = await srv.server.observeComposite(EP, [parsePath('/3303/0/5700'), parsePath('/3/0/9')], {
      format: ContentFormat.SENML_CBOR,
    });
    expect(o.result).toBe('CONTENT');
    const token = o.observation?.token;
    expect(token).toBeDefined();
    const e = await srv.waitForEvent('notification', (x) => x.observation.token === token);
    expect(e.nodes.has('/3303/0/5700')).toBe(true);
    expect(await srv.server.cancelObservations(EP, { kind: 'composite' }, 'active')).toBe(1);
  });

  it('reads a multi-instance resource and one resource instance', async () => {
    for (const format of [ContentFormat.TLV, ContentFormat.SENML_CBOR]) {
      const r = await srv.server.read(EP, parsePath('/3/0/7'), { format });
      expect(r.node?.kind === 'multiResource' ? [...r.node.instances.entries()] : []).toEqual([
        [0, 3800],
        [1, 5000],
      ]);
      const ri = await srv.server.read(EP, parsePath('/3/0/7/1'), { format });
      expect(ri.node).toMatchObject({ kind: 'resourceInstance', id: 1, value: 5000 });
    }
  });

  it('writes a large value in Block1 blocks and reads it back in Block2 blocks (RFC 7959)', async () => {
    const big = 'x'.repeat(2500) + 'END';
    const stats = srv.server.endpoint.stats;
    const before = stats.datagramsOut;
    const w = await srv.server.write(EP, parsePath('/3303/0/5750'), single(5750, 'STRING', big), 'replace', {
      format: ContentFormat.TEXT,
    });
    expect(w.result).toBe('CHANGED');
    expect(stats.datagramsOut - before).toBeGreaterThanOrEqual(3); // three Block1 requests of ≤ 1024 bytes
    const afterWrite = stats.datagramsOut;
    const r = await srv.server.read(EP, parsePath('/3303/0/5750'), { format: ContentFormat.TEXT });
    expect(valueOf(r.node)).toBe(big);
    expect(stats.datagramsOut - afterWrite).toBeGreaterThanOrEqual(2); // the GET and at least one Block2 follow-up
  });

  it.each([['/3303'], ['/3303/0'], ['/3/0/7/1']])(
    'observes %s (object, instance, resource instance levels)',
    async (path) => {
      // Runs after the 2.5 kB write to /3303/0/5750: /3303 and /3303/0 now answer in Block2 blocks (RFC 7959 §2.6).
      const o = await srv.server.observe(EP, parsePath(path), { format: ContentFormat.SENML_CBOR });
      expect(o.result).toBe('CONTENT');
      expect(o.observation?.paths).toEqual([path]);
      if (path !== '/3/0/7/1') {
        const token = o.observation?.token;
        const e = await srv.waitForEvent('notification', (x) => x.observation.token === token);
        expect(e.nodes.get(path)?.kind).toBe(path === '/3303' ? 'object' : 'instance');
      }
      expect(await srv.server.cancelObservations(EP, { kind: 'single', paths: [path] }, 'passive')).toBe(1);
    },
  );

  it('answers NOT_FOUND for an absent instance and METHOD_NOT_ALLOWED for a read-only write', async () => {
    expect((await srv.server.read(EP, parsePath('/3303/99'))).result).toBe('NOT_FOUND');
    expect((await srv.server.write(EP, parsePath('/3/0/9'), single(9, 'INTEGER', 5), 'replace')).result).toBe(
      'METHOD_NOT_ALLOWED',
    );
  });

  it('receives data the client pushes with Send', async () => {
    client.send('send /3303/0/5700 /3/0/9');
    await client.waitFor(/^SENT ok/);
    const e = await srv.waitForEvent('send', (x) => x.registration.endpoint === EP);
    const paths = e.entries.flatMap((entry) => [...entry.nodes.keys()]);
    expect(paths).toEqual(expect.arrayContaining(['/3303/0/5700', '/3/0/9']));
  });

  it('updates, then deregisters', async () => {
    client.send('update');
    await client.waitFor(/^UPDATED/);
    await srv.waitForEvent('updated', (e) => e.after.endpoint === EP);
    client.send('deregister');
    await client.waitFor(/^DEREGISTERED/);
    await srv.waitForEvent('deregistered', (e) => e.registration.endpoint === EP);
    expect(await srv.registrations.getByEndpoint(EP)).toBeUndefined();
  });
});
