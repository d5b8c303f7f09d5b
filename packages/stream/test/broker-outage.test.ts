import { KafkaJSConnectionError, KafkaJSGroupCoordinatorNotFound, KafkaJSNonRetriableError, KafkaJSProtocolError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { isBrokerOutage } from '../src';

// The errors as kafkajs' retrier wraps them (src/retry/index.js): a non-retriable wrapper whose
// cause is what went wrong.
const wrapped = (e: Error): Error => new (KafkaJSNonRetriableError as unknown as new (e: Error, m: { cause: Error }) => Error)(e, { cause: e });

describe('a consumer crash is a broker outage to wait out, or a failure', () => {
  it('waits out what a broker restart looks like', () => {
    // Seen in a drill: the coordinator lookup gave up while the broker restarted, and kafkajs would not restart.
    expect(isBrokerOutage(wrapped(new (KafkaJSGroupCoordinatorNotFound as unknown as new (m: string) => Error)('Failed to find group coordinator')))).toBe(true);
    expect(isBrokerOutage(wrapped(new KafkaJSConnectionError('connect ECONNREFUSED 127.0.0.1:9092')))).toBe(true);
    expect(isBrokerOutage(new KafkaJSConnectionError('Connection error: read ECONNRESET'))).toBe(true);
  });

  it('does not restart forever on what a restart cannot cure', () => {
    expect(isBrokerOutage(wrapped(new KafkaJSProtocolError({ name: 'KafkaJSProtocolError', message: 'Not authorized to access group', retriable: false } as unknown as Error)))).toBe(false);
    expect(isBrokerOutage(new Error('a bug in a handler'))).toBe(false);
    expect(isBrokerOutage(undefined)).toBe(false);
  });
});
