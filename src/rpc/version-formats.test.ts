import { ContentFormat } from '../lwm2m/codec/types';
import { formatRefusal } from './version-formats';

const reg = (lwm2mVersion: '1.0' | '1.1' | '1.2') => ({ endpoint: 'dev-1', lwm2mVersion });

describe('formatRefusal (OMA-TS-LightweightM2M-V1_0 §6.4)', () => {
  it.each([
    ['SENML_JSON', ContentFormat.SENML_JSON],
    ['SENML_CBOR', ContentFormat.SENML_CBOR],
    ['CBOR', ContentFormat.CBOR],
    ['LWM2M_CBOR', ContentFormat.LWM2M_CBOR],
  ])('refuses %s for a 1.0 client, naming the format, the endpoint and the version', (name, format) => {
    expect(formatRefusal(reg('1.0'), format)).toBe(
      `params.contentFormat: ${name} (${format}) is not a LwM2M 1.0 format and dev-1 registered with LwM2M 1.0 ` +
        '(it knows TEXT, OPAQUE, TLV and JSON; OMA-TS-LightweightM2M-V1_0 §6.4)',
    );
  });

  it('names an unknown numeric format by its number', () => {
    expect(formatRefusal(reg('1.0'), 65000)).toMatch(/^params\.contentFormat: 65000 is not a LwM2M 1\.0 format/);
  });

  it.each([
    ContentFormat.TEXT,
    ContentFormat.OPAQUE,
    ContentFormat.TLV,
    ContentFormat.JSON,
    ContentFormat.LINK,
    ContentFormat.TLV_LEGACY,
    ContentFormat.JSON_LEGACY,
  ])('accepts the 1.0 format %i for a 1.0 client', (format) => {
    expect(formatRefusal(reg('1.0'), format)).toBeUndefined();
  });

  it('accepts anything for 1.1 and 1.2 clients, and no explicit format at all', () => {
    expect(formatRefusal(reg('1.1'), ContentFormat.SENML_CBOR)).toBeUndefined();
    expect(formatRefusal(reg('1.2'), ContentFormat.LWM2M_CBOR)).toBeUndefined();
    expect(formatRefusal(reg('1.0'), undefined)).toBeUndefined();
  });
});
