import { KafkaJSNonRetriableError, KafkaJSProtocolError } from 'kafkajs';
import { isRecordRefusal, isRetriable, needsNewProducer } from './kafka-errors';

/** As kafkajs's retrier wraps a broker error it gives up on (src/retry/index.js). */
const wrapped = (e: Error): KafkaJSNonRetriableError => {
  // kafkajs's typings leave out the constructor's second argument.
  const Wrapper = KafkaJSNonRetriableError as unknown as new (
    e: Error,
    o: { cause: Error },
  ) => KafkaJSNonRetriableError;
  return new Wrapper(e, { cause: e });
};

const protocol = (type: string, retriable: boolean): KafkaJSProtocolError =>
  new KafkaJSProtocolError({ message: type.toLowerCase(), type, code: 0, retriable } as unknown as Error);

describe('kafka error classification', () => {
  it('sees retriable broker errors, also wrapped', () => {
    const leaderless = protocol('UNKNOWN_TOPIC_OR_PARTITION', true);
    expect(isRetriable(leaderless)).toBe(true);
    expect(isRetriable(wrapped(leaderless))).toBe(true);
    expect(isRetriable(protocol('TOPIC_AUTHORIZATION_FAILED', false))).toBe(false);
    expect(isRetriable(new Error('plain'))).toBe(false);
  });

  it('tells refused records and a lost producer state apart', () => {
    expect(isRecordRefusal(wrapped(protocol('MESSAGE_TOO_LARGE', false)))).toBe(true);
    expect(needsNewProducer(protocol('UNKNOWN_PRODUCER_ID', false))).toBe(true);
    expect(needsNewProducer(protocol('MESSAGE_TOO_LARGE', false))).toBe(false);
  });
});
