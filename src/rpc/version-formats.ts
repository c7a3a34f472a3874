/**
 * Content formats a request may name for the device's LwM2M version. LwM2M 1.0 defines only
 * plain text, opaque, TLV and JSON for resource values (OMA-TS-LightweightM2M-V1_0 §6.4; TLV and
 * JSON also under the codes 1542/1543 early clients used) and CoRE Link Format for Discover;
 * SenML JSON, SenML CBOR and CBOR came with 1.1 (LwM2M-Core 1.1 §7.4) and LwM2M CBOR with 1.2.
 * A 1.0 client cannot answer them, so an explicit request for one is refused before anything is
 * sent, instead of a bare 4.06 / 4.15 from the device.
 */
import { ContentFormat } from '../lwm2m/codec/types';
import type { Registration } from '../server/registration/registration';

const LWM2M_1_0_FORMATS: ReadonlySet<number> = new Set([
  ContentFormat.TEXT,
  ContentFormat.LINK,
  ContentFormat.OPAQUE,
  ContentFormat.TLV,
  ContentFormat.JSON,
  ContentFormat.TLV_LEGACY,
  ContentFormat.JSON_LEGACY,
]);

const NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(ContentFormat).map(([name, code]) => [code, name]),
);

/** Why `format` cannot be asked of the device registered as `reg`, or undefined when it can. */
export function formatRefusal(
  reg: Pick<Registration, 'endpoint' | 'lwm2mVersion'>,
  format: number | undefined,
): string | undefined {
  if (format === undefined || reg.lwm2mVersion !== '1.0' || LWM2M_1_0_FORMATS.has(format)) return undefined;
  const name = NAMES[format] !== undefined ? `${NAMES[format]} (${format})` : String(format);
  return (
    `params.contentFormat: ${name} is not a LwM2M 1.0 format and ${reg.endpoint} registered with LwM2M 1.0 ` +
    '(it knows TEXT, OPAQUE, TLV and JSON; OMA-TS-LightweightM2M-V1_0 §6.4)'
  );
}
