/**
 * The codec registry with every content format LwM2M 1.0-1.2 defines.
 */
import { cborCodec } from './cbor';
import { lwm2mCborCodec } from './lwm2m-cbor';
import { lwm2mJsonCodec, lwm2mJsonLegacyCodec } from './lwm2m-json';
import { opaqueCodec } from './opaque';
import { ContentCodecs } from './registry';
import { senmlCborCodec } from './senml-cbor';
import { senmlJsonCodec } from './senml-json';
import { textCodec } from './text';
import { tlvCodec, tlvLegacyCodec } from './tlv';
import { ContentFormat } from './types';

export function createDefaultCodecs(): ContentCodecs {
  const codecs = new ContentCodecs()
    .addNode(textCodec)
    .addNode(opaqueCodec)
    .addNode(cborCodec)
    .addNode(tlvCodec)
    .addNode(tlvLegacyCodec)
    .addNode(lwm2mJsonCodec)
    .addNode(lwm2mJsonLegacyCodec)
    .addTimestamped(ContentFormat.JSON, lwm2mJsonCodec)
    .addTimestamped(ContentFormat.JSON_LEGACY, lwm2mJsonLegacyCodec);
  for (const senml of [senmlJsonCodec, senmlCborCodec]) {
    codecs.addNode(senml).addComposite(senml).addTimestamped(senml.format, senml);
  }
  codecs.addNode(lwm2mCborCodec).addComposite(lwm2mCborCodec);
  return codecs;
}
