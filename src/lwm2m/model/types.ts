/**
 * Object model definitions, as described by OMA DDF XML (LWM2M.xsd, LWM2M-v1_1.xsd).
 */
import type { ResourceType } from '../value';

export type Operations = 'R' | 'W' | 'RW' | 'E' | 'NONE';

export interface ResourceModel {
  readonly id: number;
  readonly name: string;
  readonly operations: Operations;
  readonly multiple: boolean;
  readonly mandatory: boolean;
  readonly type: ResourceType;
  readonly rangeEnumeration?: string;
  readonly units?: string;
}

export interface ObjectModel {
  readonly id: number;
  readonly name: string;
  /** Object version, "1.0" when the DDF gives none (LwM2M-Core 1.2 §7.2.2). */
  readonly version: string;
  /** LwM2M enabler version the object was written for ("1.0", "1.1", ...). */
  readonly lwm2mVersion: string;
  readonly multiple: boolean;
  readonly mandatory: boolean;
  readonly urn?: string;
  readonly resources: ReadonlyMap<number, ResourceModel>;
}

/**
 * Looks up object models, honouring object versions: a device that registers `</3>;ver=1.1`
 * is decoded with version 1.1 of object 3 when the registry has it.
 */
export interface ObjectModelLookup {
  /** The model of `objectId` at `version` (or the closest known, else the newest); undefined when unknown. */
  getObject(objectId: number, version?: string): ObjectModel | undefined;
  /** Convenience: the resource model, or undefined when the object or resource is unknown. */
  getResource(objectId: number, resourceId: number, version?: string): ResourceModel | undefined;
}
