import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { incomingRequestId, requestIdStage } from '../../../src/stages/request-id.js';
import { makeFlow, testClock } from '../../helpers/make-flow.js';

const ctx = { clock: testClock, log: pino({ level: 'silent' }) };

describe('request id stage', () => {
  it('keeps an incoming id and records it', () => {
    const flow = makeFlow({ url: 'http://a.test/', headers: [['x-request-id', 'abc-123']] });
    requestIdStage({ header: 'X-Request-Id', add: () => true }).onRequest?.(flow, ctx);
    expect(flow.notes.requestId).toBe('abc-123');
    expect(flow.request.headers).toEqual([['x-request-id', 'abc-123']]);
  });

  it('adds the flow id when absent and allowed, and leaves the request alone when not', () => {
    const added = makeFlow({ url: 'http://a.test/' });
    requestIdStage({ header: 'X-Request-Id', add: () => true }).onRequest?.(added, ctx);
    expect(added.notes.requestId).toBe('test-flow');
    expect(added.request.headers).toEqual([['X-Request-Id', 'test-flow']]);
    const left = makeFlow({ url: 'http://a.test/' });
    requestIdStage({ header: 'X-Request-Id', add: () => false }).onRequest?.(left, ctx);
    expect(left.notes.requestId).toBeUndefined();
    expect(left.request.headers).toEqual([]);
  });

  it('replaces an unusable id instead of trusting it', () => {
    const flow = makeFlow({ url: 'http://a.test/', headers: [['X-Request-Id', 'a b']] });
    requestIdStage({ header: 'X-Request-Id', add: () => true }).onRequest?.(flow, ctx);
    expect(flow.notes.requestId).toBe('test-flow');
    expect(flow.request.headers).toEqual([['X-Request-Id', 'test-flow']]);
  });

  it.each([
    ['abc', 'abc'], ['9f2c-00001a', '9f2c-00001a'], ['', undefined], ['a,b', undefined], ['x'.repeat(129), undefined],
    ['é', undefined], [undefined, undefined],
  ])('incomingRequestId(%j) = %j', (value, expected) => {
    expect(incomingRequestId(value)).toBe(expected);
  });
});
