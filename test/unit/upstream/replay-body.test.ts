import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ReplayableBody } from '../../../src/upstream/replay-body.js';
import { shouldRetry, DEFAULT_RETRY } from '../../../src/upstream/retry-budget.js';

const enc = new TextEncoder();
function source(parts: string[]): Readable {
  return Readable.from(parts.map((p) => enc.encode(p)), { objectMode: false });
}
async function text(r: Readable): Promise<string> {
  let out = '';
  for await (const c of r) out += Buffer.from(c as Uint8Array).toString();
  return out;
}

describe('replayable request body', () => {
  it('a small body is sent whole by every attempt, even when an attempt stopped early', async () => {
    const body = new ReplayableBody(source(['ab', 'cd', 'ef']), 100);
    const first = body.attempt();
    const it1 = first[Symbol.asyncIterator]();
    await it1.next(); // the first attempt read one chunk, then failed
    first.destroy();
    expect(body.replayable()).toBe(true);
    expect(await text(body.attempt())).toBe('abcdef');
    expect(await text(body.attempt())).toBe('abcdef');
  });

  it('past the limit nothing more is kept: the attempt in progress gets every byte, but the body is no longer replayable', async () => {
    const body = new ReplayableBody(source(['1234', '5678', '9']), 6);
    expect(await text(body.attempt())).toBe('123456789');
    expect(body.replayable()).toBe(false);
  });

  it('an untouched body is replayable (a connect failure never read it)', () => {
    expect(new ReplayableBody(source(['x'.repeat(10)]), 4).replayable()).toBe(true);
  });
});

describe('retry rules for requests with a body', () => {
  const q = { method: 'POST', hasBody: true, attempts: 1, responseStarted: false, budgetOk: true, alternative: true };
  it.each([
    [{ bodyReplayable: true, outcome: { kind: 'error', code: 'CONNECT_REFUSED' } }, true],
    [{ bodyReplayable: true, outcome: { kind: 'error', code: 'CONNECT_TIMEOUT' } }, true],
    [{ bodyReplayable: false, outcome: { kind: 'error', code: 'CONNECT_REFUSED' } }, false],
    [{ bodyReplayable: true, outcome: { kind: 'error', code: 'UPSTREAM_RESET' } }, false],
    [{ bodyReplayable: true, outcome: { kind: 'status', status: 503 } }, false],
    [{ bodyReplayable: true, method: 'PUT', outcome: { kind: 'status', status: 503 } }, false],
    [{ bodyReplayable: true, responseStarted: true, outcome: { kind: 'error', code: 'CONNECT_REFUSED' } }, false],
  ] as const)('%j → %s', (over, retry) => {
    expect(shouldRetry({ ...q, ...over }, DEFAULT_RETRY).retry).toBe(retry);
  });
});
