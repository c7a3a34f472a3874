/**
 * Typed JSON for mapped values: the Kafka contract's value encoding (src/contract/values.ts,
 * LwM2M-Core 1.2 Appendix C types: numbers, booleans, strings; OPAQUE base64, TIME ISO 8601,
 * OBJLNK "oid:iid"; structured values as objects keyed by id).
 */
import { leafToJson, type JsonLeaf, type JsonObject, type JsonValue } from '../contract/values';
import type { LwM2mValue, ResourceType } from '../lwm2m/value';

export type { JsonLeaf, JsonObject, JsonValue };

/** A JSON object under construction (assignable to the contract's read-only JsonObject). */
export type MutableJsonObject = { [key: string]: JsonLeaf | MutableJsonObject };

/** Converts one resource value; `type` is the resource's LwM2M type from the object model. */
export type ValueConverter = (value: LwM2mValue, type: ResourceType) => JsonLeaf;

export const toJsonValue: ValueConverter = (value) => leafToJson(value);
