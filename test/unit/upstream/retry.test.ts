import { describe, expect, it } from 'vitest';
import { shouldRetryReset, type RetryInput } from '../../../src/upstream/retry.js';

const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
const closedReused = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET', socket: { bytesRead: 512 } });
const closedFresh = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET', socket: { bytesRead: 0 } });
const base: RetryInput = { method: 'GET', hasBody: false, responseStarted: false, attempts: 1, err: reset };

describe('shouldRetryReset', () => {
  it.each<[string, Partial<RetryInput>, boolean]>([
    ['GET reset before any byte', {}, true],
    ['HEAD, PUT, DELETE, OPTIONS, TRACE too', { method: 'delete' }, true],
    ['reused socket closed by the origin', { err: closedReused }, true],
    ['wrapped in a cause', { err: new Error('x', { cause: reset }) }, true],
    ['fresh socket closed: a real failure', { err: closedFresh }, false],
    ['POST is not idempotent', { method: 'POST' }, false],
    ['PATCH is not idempotent', { method: 'PATCH' }, false],
    ['a request body was (partly) consumed', { method: 'PUT', hasBody: true }, false],
    ['response already started', { responseStarted: true }, false],
    ['only once', { attempts: 2 }, false],
    ['refused is not the race', { err: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) }, false],
    ['timeouts are not the race', { err: Object.assign(new Error('t'), { code: 'UND_ERR_HEADERS_TIMEOUT' }) }, false],
  ])('%s → %s', (_name, patch, expected) => {
    expect(shouldRetryReset({ ...base, ...patch })).toBe(expected);
  });
});
