import { CompressionTypes } from 'kafkajs';
import { defaultHeaders, encodeRecord } from './encode';
import { compressionType, KAFKA_BUS_DEFAULTS, resolveKafkaBusOptions } from './kafka-config';
import { describeKafkaError, isRecordRefusal, needsNewProducer } from './kafka-errors';
import { resolveTopics } from './topics';
import { BusRejectedError } from './types';

describe('Kafka bus configuration', () => {
  it('fills defaults, and an option given as undefined keeps its default', () => {
    const o = resolveKafkaBusOptions({
      brokers: ['k:9092'],
      instanceId: 'pod-1',
      lingerMs: undefined,
      maxBatchRecords: 10,
    });
    expect(o).toMatchObject({
      ...KAFKA_BUS_DEFAULTS,
      brokers: ['k:9092'],
      instanceId: 'pod-1',
      maxBatchRecords: 10,
      lingerMs: 5,
    });
    expect(compressionType(o)).toBe(CompressionTypes.GZIP);
    expect(compressionType(resolveKafkaBusOptions({ brokers: [], instanceId: 'x', compression: 'none' }))).toBe(
      CompressionTypes.None,
    );
  });

  it('names topics prefix + name', () => {
    expect(resolveTopics()).toEqual({
      telemetry: 'lwm2m.telemetry',
      attributes: 'lwm2m.attributes',
      events: 'lwm2m.events',
      rpcRequests: 'lwm2m.rpc.requests',
      rpcResponses: 'lwm2m.rpc.responses',
      devices: 'lwm2m.devices',
      profiles: 'lwm2m.profiles',
    });
    expect(resolveTopics('site-a.', { telemetry: 'tm' })).toMatchObject({
      telemetry: 'site-a.tm',
      events: 'site-a.events',
    });
  });
});

describe('record encoding', () => {
  const base = defaultHeaders('pod-1');

  it('carries the contract headers, which a record can override, and counts its bytes', () => {
    const e = encodeRecord(
      { topic: 't', key: 'dev', value: { a: 1 }, headers: { 'schema-version': '2', extra: 'x' } },
      base,
    );
    expect(e.headers).toEqual({
      'schema-version': '2',
      'instance-id': 'pod-1',
      'content-type': 'application/json',
      extra: 'x',
    });
    expect(e.value?.toString()).toBe('{"a":1}');
    expect(e.bytes).toBe(7 + 3 + 1 + 'schema-version2instance-idpod-1content-typeapplication/jsonextrax'.length);
  });

  it('encodes null as a tombstone and refuses what JSON cannot carry', () => {
    expect(encodeRecord({ topic: 't', key: 'dev', value: null }, base).value).toBeNull();
    expect(() => encodeRecord({ topic: 't', key: 'dev', value: 1n }, base)).toThrow(BusRejectedError);
    expect(() => encodeRecord({ topic: 't', key: 'dev', value: undefined }, base)).toThrow(/no JSON value/);
  });
});

describe('kafkajs send errors', () => {
  // The shapes kafkajs produces: a protocol error wrapped by the retrier.
  const protocol = (type: string) =>
    Object.assign(new Error(type), { name: 'KafkaJSProtocolError', type, retriable: false });
  const wrapped = (cause: Error) =>
    Object.assign(new Error(cause.message), { name: 'KafkaJSNonRetriableError', cause });

  it('tells records the broker refuses from producer state to renew and from outages', () => {
    expect(isRecordRefusal(wrapped(protocol('MESSAGE_TOO_LARGE')))).toBe(true);
    expect(needsNewProducer(wrapped(protocol('MESSAGE_TOO_LARGE')))).toBe(false);
    expect(needsNewProducer(wrapped(wrapped(protocol('OUT_OF_ORDER_SEQUENCE_NUMBER'))))).toBe(true);
    expect(isRecordRefusal(wrapped(protocol('UNKNOWN_PRODUCER_ID')))).toBe(false);
    const outage = Object.assign(new Error('Connection error: connect ECONNREFUSED'), {
      name: 'KafkaJSConnectionError',
    });
    expect(isRecordRefusal(outage)).toBe(false);
    expect(needsNewProducer(outage)).toBe(false);
    expect(describeKafkaError(wrapped(protocol('INVALID_RECORD')))).toEqual({
      message: 'INVALID_RECORD',
      type: 'INVALID_RECORD',
    });
    expect(describeKafkaError('odd')).toEqual({ message: 'odd' });
  });
});
