import { describe, expect, it } from 'vitest';
import { missingBodyNote, requestBodyCapture } from '../../../src/observe/request-body.js';

describe('what a flow record holds of its request body', () => {
  it.each([
    ['no body', { bytesIn: 0 }, { kind: 'none' }],
    ['captured whole (UTF-8 byte length = body bytes)', { bytesIn: 4, requestBody: 'é✓'.slice(0, 1) + 'ab' }, { kind: 'complete', text: 'éab', bytes: 4 }],
    ['first N bytes of a longer body', { bytesIn: 100, requestBody: 'abc' }, { kind: 'truncated', text: 'abc', captured: 3, total: 100 }],
    ['counter below the capture: total unknown', { bytesIn: 0, requestBody: 'abc' }, { kind: 'truncated', text: 'abc', captured: 3, total: undefined }],
    ['binary, compressed or log.bodies off', { bytesIn: 9 }, { kind: 'not-captured', total: 9 }],
  ])('%s', (_name, record, expected) => expect(requestBodyCapture(record)).toEqual(expected));

  it('says nothing is missing only when nothing is', () => {
    expect(missingBodyNote({ kind: 'none' })).toBeUndefined();
    expect(missingBodyNote({ kind: 'complete', text: 'a', bytes: 1 })).toBeUndefined();
    expect(missingBodyNote({ kind: 'truncated', text: 'a', captured: 1, total: undefined })).toContain('its full size is unknown');
  });
});
