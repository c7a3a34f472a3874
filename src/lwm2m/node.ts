/**
 * The LwM2M node model: what a Read returns and a Write carries (LwM2M-Core 1.2 §6.1).
 * Nodes are plain immutable data; codecs turn bytes into nodes and back.
 */
import type { LwM2mValue, ResourceType } from './value';

export interface SingleResource {
  readonly kind: 'resource';
  readonly id: number;
  readonly type: ResourceType;
  readonly value: LwM2mValue;
}

export interface MultiResource {
  readonly kind: 'multiResource';
  readonly id: number;
  readonly type: ResourceType;
  /** Resource instance id → value. */
  readonly instances: ReadonlyMap<number, LwM2mValue>;
}

export interface ResourceInstance {
  readonly kind: 'resourceInstance';
  /** The resource instance id. */
  readonly id: number;
  readonly type: ResourceType;
  readonly value: LwM2mValue;
}

export type Resource = SingleResource | MultiResource;

export interface ObjectInstance {
  readonly kind: 'instance';
  readonly id: number;
  readonly resources: ReadonlyMap<number, Resource>;
}

export interface LwM2mObject {
  readonly kind: 'object';
  readonly id: number;
  readonly instances: ReadonlyMap<number, ObjectInstance>;
}

export type LwM2mNode = LwM2mObject | ObjectInstance | Resource | ResourceInstance;

/** A node with the time it was measured (SenML/LwM2M JSON "bt"+"t"), as in Send and historical notifications. */
export interface TimestampedNode {
  /** Unix time in milliseconds, or undefined for "now". */
  readonly timestamp?: number;
  readonly node: LwM2mNode;
}

export const single = (id: number, type: ResourceType, value: LwM2mValue): SingleResource => ({
  kind: 'resource',
  id,
  type,
  value,
});
export const multi = (id: number, type: ResourceType, instances: Iterable<[number, LwM2mValue]>): MultiResource => ({
  kind: 'multiResource',
  id,
  type,
  instances: new Map(instances),
});
export const resourceInstance = (id: number, type: ResourceType, value: LwM2mValue): ResourceInstance => ({
  kind: 'resourceInstance',
  id,
  type,
  value,
});
export const instance = (id: number, resources: Iterable<Resource>): ObjectInstance => ({
  kind: 'instance',
  id,
  resources: new Map([...resources].map((r) => [r.id, r])),
});
export const object = (id: number, instances: Iterable<ObjectInstance>): LwM2mObject => ({
  kind: 'object',
  id,
  instances: new Map([...instances].map((i) => [i.id, i])),
});
