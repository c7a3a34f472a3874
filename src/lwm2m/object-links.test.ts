import { LinkFormatError } from '../common/errors';
import { parseObjectLinks } from './object-links';

describe('parseObjectLinks', () => {
  it('reads the root link, content formats, versions and instances', () => {
    const r = parseObjectLinks('</>;rt="oma.lwm2m";ct=110, </1/0>, </3>;ver=1.1, </3/0>');
    expect(r.rootPath).toBe('/');
    expect(r.supportedContentFormats).toEqual([110]);
    expect(r.objects).toEqual(
      new Map([
        [1, { instances: [0] }],
        [3, { version: '1.1', instances: [0] }],
      ]),
    );
  });

  it('reads a LwM2M 1.0 payload without root link or versions', () => {
    const r = parseObjectLinks('</1/0>,</1/1>,</2/0>,</2/1>,</3/0>,</4/0>,</5>');
    expect(r.rootPath).toBe('/');
    expect(r.supportedContentFormats).toBeUndefined();
    expect(r.objects.get(1)).toEqual({ instances: [0, 1] });
    expect(r.objects.get(5)).toEqual({ instances: [] });
    expect(r.objects.get(3)?.version).toBeUndefined();
  });

  it('honours the alternate path', () => {
    const r = parseObjectLinks('</lwm2m>;rt="oma.lwm2m", </lwm2m/1/0>,</lwm2m/1/1>,</lwm2m/3/0>,</lwm2m/5>');
    expect(r.rootPath).toBe('/lwm2m');
    expect([...r.objects.keys()]).toEqual([1, 3, 5]);
    expect(r.objects.get(1)?.instances).toEqual([0, 1]);
    expect(parseObjectLinks('</a/b/>;rt="oma.lwm2m",</a/b/3/0>').rootPath).toBe('/a/b');
  });

  it('accepts unprefixed object links beside an alternate path (Wakaama)', () => {
    const r = parseObjectLinks('</alt>;rt="oma.lwm2m";ct=110,</1>;ver=1.1,</1/0>,</3/0>');
    expect(r.rootPath).toBe('/alt');
    expect(r.objects.get(1)).toEqual({ version: '1.1', instances: [0] });
  });

  it('reads ct lists, ct on a plain root link, quoted ver and ver on an instance link', () => {
    expect(parseObjectLinks('</>;rt="oma.lwm2m";ct="60 110 112 11542 11543",</3/0>').supportedContentFormats).toEqual([
      60, 110, 112, 11542, 11543,
    ]);
    expect(parseObjectLinks('</>;ct=11543, </1/0>').supportedContentFormats).toEqual([11543]);
    const r = parseObjectLinks('</>;rt="oma.lwm2m";ct=11542,</1/0>;ver="1.1",</3/0>,</3303/0>;ver=1.1,</3303/1>');
    expect(r.objects.get(1)).toEqual({ version: '1.1', instances: [0] });
    expect(r.objects.get(3303)).toEqual({ version: '1.1', instances: [0, 1] });
  });

  it('ignores unknown attributes, sorts and de-duplicates instances', () => {
    const r = parseObjectLinks('</3/1>;foo=bar, </3/0>;title="x,y", </3/1>, </3>;obs');
    expect(r.objects.get(3)).toEqual({ instances: [0, 1] });
  });

  it('rejects links that are neither the root nor object or instance paths', () => {
    expect(() => parseObjectLinks('</1/0>,</3/0/1>')).toThrow(LinkFormatError);
    expect(() => parseObjectLinks('</1/0>,</rd>')).toThrow(/<\/rd> is neither/);
    expect(() => parseObjectLinks('</lwm2m>;rt="oma.lwm2m",</other/3/0>')).toThrow(LinkFormatError);
    expect(() => parseObjectLinks('</3/65535>')).toThrow(/65535/);
    expect(() => parseObjectLinks('</99999>')).toThrow(LinkFormatError);
    expect(() => parseObjectLinks('</a>;rt="oma.lwm2m",</b>;rt="oma.lwm2m"')).toThrow(/two alternate paths/);
    expect(() => parseObjectLinks('</lwm2m/3>;rt="oma.lwm2m"')).toThrow(/numerical segment/);
  });

  it('rejects invalid ver and ct values', () => {
    expect(() => parseObjectLinks('</3>;ver=one')).toThrow(/invalid ver/);
    expect(() => parseObjectLinks('</3>;ver')).toThrow(LinkFormatError);
    expect(() => parseObjectLinks('</3>;ver=1.0,</3/0>;ver=1.1')).toThrow(/two versions/);
    expect(() => parseObjectLinks('</>;rt="oma.lwm2m";ct=json')).toThrow(/invalid ct/);
    expect(() => parseObjectLinks('</>;rt="oma.lwm2m";ct=70000')).toThrow(/invalid ct/);
  });

  it('rejects garbage', () => {
    expect(() => parseObjectLinks('hello')).toThrow(LinkFormatError);
  });

  it('accepts an empty payload', () => {
    expect(parseObjectLinks('')).toEqual({ rootPath: '/', objects: new Map() });
  });
});
