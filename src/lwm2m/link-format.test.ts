import { LinkFormatError } from '../common/errors';
import { parseLinkFormat, serializeLinkFormat, type Link } from './link-format';

const link = (uri: string, params: Record<string, string | true> = {}): Link => ({ uri, params });

function expectLinkFormatError(text: string, offset: number): void {
  let caught: unknown;
  try {
    parseLinkFormat(text);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(LinkFormatError);
  expect(caught instanceof LinkFormatError && caught.message).toContain(`offset ${offset}`);
  expect(caught instanceof LinkFormatError && caught.code).toBe('LWM2M_LINK_FORMAT');
}

describe('parseLinkFormat', () => {
  it('parses the RFC 6690 §5 examples', () => {
    expect(parseLinkFormat('</sensors/temp>;if="sensor",</sensors/light>;if="sensor"')).toEqual([
      link('/sensors/temp', { if: 'sensor' }),
      link('/sensors/light', { if: 'sensor' }),
    ]);
    expect(
      parseLinkFormat(
        '</sensors>;ct=40;title="Sensor Index",</sensors/temp>;rt="temperature-c";if="sensor",' +
          '</sensors/light>;rt="light-lux";if="sensor",' +
          '<http://www.example.com/sensors/t123>;anchor="/sensors/temp";rel="describedby",' +
          '</t>;anchor="/sensors/temp";rel="alternate"',
      ),
    ).toEqual([
      link('/sensors', { ct: '40', title: 'Sensor Index' }),
      link('/sensors/temp', { rt: 'temperature-c', if: 'sensor' }),
      link('/sensors/light', { rt: 'light-lux', if: 'sensor' }),
      link('http://www.example.com/sensors/t123', { anchor: '/sensors/temp', rel: 'describedby' }),
      link('/t', { anchor: '/sensors/temp', rel: 'alternate' }),
    ]);
  });

  it('keeps commas, semicolons and escaped quotes inside quoted values', () => {
    expect(parseLinkFormat('</a>;title="x, y; z",</b>;title="say \\"hi\\" \\\\ ok"')).toEqual([
      link('/a', { title: 'x, y; z' }),
      link('/b', { title: 'say "hi" \\ ok' }),
    ]);
  });

  it('parses LwM2M registration and discover payloads, with blanks and flags', () => {
    expect(parseLinkFormat('</>;rt="oma.lwm2m";ct=110, </1/0>, </3>;ver=1.1, </3/0>')).toEqual([
      link('/', { rt: 'oma.lwm2m', ct: '110' }),
      link('/1/0'),
      link('/3', { ver: '1.1' }),
      link('/3/0'),
    ]);
    expect(parseLinkFormat('</>;ct="60 110"')).toEqual([link('/', { ct: '60 110' })]);
    expect(parseLinkFormat('</3/0>;pmin=10;pmax=60,</3/0/7>;dim=3, </3/0/1> ; obs')).toEqual([
      link('/3/0', { pmin: '10', pmax: '60' }),
      link('/3/0/7', { dim: '3' }),
      link('/3/0/1', { obs: true }),
    ]);
  });

  it('lower-cases parameter names and keeps the first of repeated parameters', () => {
    expect(parseLinkFormat('</a>;RT="x";rt="y";Ver=1.0')).toEqual([link('/a', { rt: 'x', ver: '1.0' })]);
  });

  it('is safe against parameter names like __proto__', () => {
    const [l] = parseLinkFormat('</a>;__proto__=1;constructor');
    expect(l?.params['__proto__']).toBe('1');
    expect(l?.params['constructor']).toBe(true);
    expect(Object.keys(l?.params ?? {})).toEqual(['__proto__', 'constructor']);
  });

  it('returns no links for an empty or blank payload', () => {
    expect(parseLinkFormat('')).toEqual([]);
    expect(parseLinkFormat('  \r\n')).toEqual([]);
  });

  it('rejects garbage with the offset of the problem', () => {
    expectLinkFormatError('garbage', 0);
    expectLinkFormatError('</a', 0);
    expectLinkFormatError('</a>;', 5);
    expectLinkFormatError('</a>;ct=', 8);
    expectLinkFormatError('</a>;title="open', 11);
    expectLinkFormatError('</a> </b>', 5);
    expectLinkFormatError('</a>,', 5);
    expectLinkFormatError('</a>,,</b>', 5);
    expectLinkFormatError('</a b>', 3);
    expectLinkFormatError('</a>;ct=1 2', 10);
    expectLinkFormatError('</a>;=1', 5);
  });
});

describe('serializeLinkFormat', () => {
  it('writes tokens bare, and quotes rt, blanks, separators and quotes', () => {
    expect(
      serializeLinkFormat([
        link('/', { rt: 'oma.lwm2m', ct: '60 110' }),
        link('/3', { ver: '1.1' }),
        link('/3/0/1', { pmin: '10', dim: '3', obs: true }),
        link('/x', { title: 'a "b", c' }),
      ]),
    ).toBe('</>;rt="oma.lwm2m";ct="60 110",</3>;ver=1.1,</3/0/1>;pmin=10;dim=3;obs,</x>;title="a \\"b\\", c"');
  });

  it('round-trips through the parser', () => {
    const links = [
      link('/sensors', { ct: '40', title: 'Sensor, Index; \\ "q"' }),
      link('/t', { anchor: '/sensors/temp', rel: 'alternate' }),
    ];
    expect(parseLinkFormat(serializeLinkFormat(links))).toEqual(links);
  });

  it('rejects what cannot be written', () => {
    expect(() => serializeLinkFormat([link('/a>b')])).toThrow(LinkFormatError);
    expect(() => serializeLinkFormat([link('/a', { 'bad name': '1' })])).toThrow(LinkFormatError);
  });
});
