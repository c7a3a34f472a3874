/**
 * SenML CBOR content format (application/senml+cbor, 112): LwM2M-Core 1.1 §7.4.6 over RFC 8428 §6.
 * Example (Read /3/0): [{-2: "/3/0/", 0: "0", 3: "Open Mobile Alliance"}, {0: "9", 2: 100}]
 */
import { ContentFormat } from './types';
import { createSenmlCodec, type SenmlCodec } from './senml/codec';
import { readSenmlCbor, writeSenmlCbor } from './senml/cbor-records';

export const senmlCborCodec: SenmlCodec = createSenmlCodec(ContentFormat.SENML_CBOR, {
  read: readSenmlCbor,
  write: writeSenmlCbor,
});
