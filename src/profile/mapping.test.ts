import { instance, multi, object, resourceInstance, single, type LwM2mNode } from '../lwm2m/node';
import { mapNodes } from './mapping';
import { profile } from '../../test/support/profile-fixtures';

const nodes = (...entries: Array<[string, LwM2mNode | null]>): Map<string, LwM2mNode | null> => new Map(entries);

const sensor = profile({
  observeAttr: {
    keyName: {
      '/3303_1.1/0/5700': 'temperature',
      '/3_1.2/0/9': 'batteryLevel',
      '/3/0/6': 'powerSources',
      '/3/0/0': 'manufacturer',
    },
    observe: ['/3303/0', '/3/0/9'],
    telemetry: ['/3303_1.1/0/5700', '/3_1.2/0/9', '/3/0/6'],
    attribute: ['/3/0/0', '/3_1.2/0/9'],
  },
});

describe('mapNodes', () => {
  it('maps single resources to their keys, as telemetry or attribute or both', () => {
    const m = mapNodes(
      sensor,
      nodes(
        ['/3303/0/5700', single(5700, 'FLOAT', 21.5)],
        ['/3/0/9', single(9, 'INTEGER', 87)],
        ['/3/0/0', single(0, 'STRING', 'ACME')],
      ),
    );
    expect(m.telemetry).toEqual({ temperature: 21.5, batteryLevel: 87 });
    expect(m.attributes).toEqual({ batteryLevel: 87, manufacturer: 'ACME' });
    expect(m.types).toEqual({ temperature: 'FLOAT', batteryLevel: 'INTEGER', manufacturer: 'STRING' });
  });

  it('turns a multi-instance resource into an object keyed by instance id', () => {
    const m = mapNodes(
      sensor,
      nodes([
        '/3/0/6',
        multi(6, 'INTEGER', [
          [0, 1],
          [1, 5],
        ]),
      ]),
    );
    expect(m.telemetry).toEqual({ powerSources: { '0': 1, '1': 5 } });
    expect(m.types).toEqual({ powerSources: 'INTEGER' });
  });

  it('maps a resource instance of a keyed multi-instance resource under the key', () => {
    const m = mapNodes(sensor, nodes(['/3/0/6/1', resourceInstance(1, 'INTEGER', 5)]));
    expect(m.telemetry).toEqual({ powerSources: { '1': 5 } });
  });

  it('maps the resources of an observed instance by their own keys, the rest under their paths', () => {
    const inst = instance(0, [single(5700, 'FLOAT', 22), single(5701, 'STRING', 'Cel'), multi(5750, 'STRING', [])]);
    const m = mapNodes(sensor, nodes(['/3303/0', inst]));
    expect(m.telemetry).toEqual({ temperature: 22, '/3303/0/5701': 'Cel', '/3303/0/5750': {} });
    expect(m.attributes).toEqual({});
  });

  it('keeps what a "drop" profile has no entry for, by resource path and with types, when asked (RPC observations)', () => {
    const p = profile({
      unmappedPaths: 'drop',
      observeAttr: { keyName: { '/3303/0/5700': 'temperature' }, telemetry: ['/3303/0/5700'] },
    });
    const m = mapNodes(
      p,
      nodes([
        '/3303/0',
        instance(0, [single(5700, 'FLOAT', 22), single(5701, 'STRING', 'Cel'), multi(5750, 'STRING', [[1, 'a']])]),
      ]),
      undefined,
      true,
    );
    expect(m.telemetry).toEqual({ temperature: 22 });
    expect(m.unmapped).toEqual({
      values: { '/3303/0/5701': 'Cel', '/3303/0/5750': { '1': 'a' } },
      types: { '/3303/0/5701': 'STRING', '/3303/0/5750': 'STRING' },
    });
    expect(mapNodes(p, nodes(['/3303/0/5701', single(5701, 'STRING', 'Cel')])).unmapped).toBeUndefined();
  });

  it('drops unmapped values when the profile says so', () => {
    const p = profile({
      unmappedPaths: 'drop',
      observeAttr: { keyName: { '/3303/0/5700': 'temperature' }, telemetry: ['/3303/0/5700'] },
    });
    const m = mapNodes(p, nodes(['/3303/0', instance(0, [single(5700, 'FLOAT', 22), single(5701, 'STRING', 'Cel')])]));
    expect(m.telemetry).toEqual({ temperature: 22 });
  });

  it('walks whole objects, keyed per instance where the profile names them', () => {
    const p = profile({
      unmappedPaths: 'drop',
      observeAttr: {
        keyName: { '/3303/0/5700': 't0', '/3303/1/5700': 't1' },
        telemetry: ['/3303/0/5700', '/3303/1/5700'],
      },
    });
    const obj = object(3303, [instance(0, [single(5700, 'FLOAT', 20)]), instance(1, [single(5700, 'FLOAT', 30)])]);
    expect(mapNodes(p, nodes(['/3303', obj])).telemetry).toEqual({ t0: 20, t1: 30 });
  });

  it('nests a keyed instance or object by ids, without types', () => {
    const p = profile({
      observeAttr: { keyName: { '/3303/0': 'sensor', '/3': 'device' }, telemetry: ['/3303/0'], attribute: ['/3'] },
    });
    const m = mapNodes(
      p,
      nodes(
        ['/3303/0', instance(0, [single(5700, 'FLOAT', 20), single(5701, 'STRING', 'Cel')])],
        ['/3', object(3, [instance(0, [multi(7, 'INTEGER', [[0, 3800]])])])],
      ),
    );
    expect(m.telemetry).toEqual({ sensor: { '5700': 20, '5701': 'Cel' } });
    expect(m.attributes).toEqual({ device: { '0': { '7': { '0': 3800 } } } });
    expect(m.types).toEqual({});
  });

  it('uses the resource path as key for a listed path without keyName', () => {
    const p = profile({ observeAttr: { telemetry: ['/3_1.2/0/7'] } });
    expect(
      mapNodes(
        p,
        nodes([
          '/3/0/7',
          multi(7, 'INTEGER', [
            [0, 3800],
            [1, 5000],
          ]),
        ]),
      ).telemetry,
    ).toEqual({ '/3/0/7': { '0': 3800, '1': 5000 } });
  });

  it('gives typed JSON: time, opaque, object links, big integers; skips null nodes', () => {
    const p = profile({
      observeAttr: {
        keyName: { '/3/0/13': 'time', '/3/0/99': 'blob', '/3/0/98': 'link', '/3/0/97': 'big' },
        telemetry: ['/3/0'],
      },
    });
    const m = mapNodes(
      p,
      nodes(
        ['/3/0/13', single(13, 'TIME', new Date(Date.UTC(2024, 4, 1)))],
        ['/3/0/99', single(99, 'OPAQUE', Buffer.from([1, 2, 3]))],
        ['/3/0/98', single(98, 'OBJLNK', { objectId: 3303, instanceId: 0 })],
        ['/3/0/97', single(97, 'INTEGER', 2n ** 63n - 1n)],
        ['/3/0/96', null],
      ),
    );
    expect(m.telemetry).toEqual({
      time: '2024-05-01T00:00:00.000Z',
      blob: 'AQID',
      link: '3303:0',
      big: '9223372036854775807',
    });
  });

  it('publishes a value observed but listed in neither telemetry nor attribute as telemetry', () => {
    const p = profile({ observeAttr: { keyName: { '/3/0/9': 'battery' }, observe: ['/3/0/9'] } });
    const m = mapNodes(p, nodes(['/3/0/9', single(9, 'INTEGER', 50)]));
    expect(m).toEqual({ telemetry: { battery: 50 }, attributes: {}, types: { battery: 'INTEGER' } });
  });
});
