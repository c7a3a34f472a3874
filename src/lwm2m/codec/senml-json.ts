/**
 * SenML JSON content format (application/senml+json, 110): LwM2M-Core 1.1 §7.4.5 over RFC 8428 §5.
 * Example (Read /3/0): [{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"},{"n":"9","v":100}]
 */
import { ContentFormat } from './types';
import { createSenmlCodec, type SenmlCodec } from './senml/codec';
import { readSenmlJson, writeSenmlJson } from './senml/json-records';

export const senmlJsonCodec: SenmlCodec = createSenmlCodec(ContentFormat.SENML_JSON, {
  read: readSenmlJson,
  write: writeSenmlJson,
});
