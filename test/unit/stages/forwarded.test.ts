import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { RawHeaders } from '../../../src/core/flow.js';
import { appendVia, forwardedStage, stripHopByHop, viaHasLoop } from '../../../src/stages/forwarded.js';
import { makeFlow, testClock } from '../../helpers/make-flow.js';

const ctx = { clock: testClock, log: pino({ level: 'silent' }) };

describe('stripHopByHop', () => {
  it.each<[string, RawHeaders, RawHeaders]>([
    ['keeps end-to-end fields in order and case', [['Accept', '*/*'], ['X-Custom', '1'], ['Cookie', 'a=1']], [['Accept', '*/*'], ['X-Custom', '1'], ['Cookie', 'a=1']]],
    ['removes the fixed hop-by-hop set', [
      ['Connection', 'keep-alive'], ['Keep-Alive', 'timeout=5'], ['Proxy-Connection', 'keep-alive'], ['TE', 'trailers'],
      ['Transfer-Encoding', 'chunked'], ['Upgrade', 'h2c'], ['Trailer', 'Expires'], ['Proxy-Authorization', 'Basic eDp5'],
      ['Proxy-Authenticate', 'Basic'], ['Host', 'a.example'],
    ], [['Host', 'a.example']]],
    ['removes fields named by Connection, any case, several lines', [
      ['connection', 'X-Secret, close'], ['CONNECTION', ' x-other '], ['X-SECRET', 's'], ['x-other', 'o'], ['X-Kept', 'k'],
    ], [['X-Kept', 'k']]],
    ['Connection naming only fixed hop-by-hop names removes nothing else', [
      ['Connection', 'Keep-Alive, TE'], ['Keep-Alive', 'timeout=5'], ['Close', 'c'], ['X-Kept-Too', 'k'],
    ], [['Close', 'c'], ['X-Kept-Too', 'k']]],
    ['Connection: close removes a field named close; a name of the same length is kept', [
      ['Connection', 'close'], ['close', 'x'], ['Vary2', 'v'], ['Accept', '*/*'],
    ], [['Vary2', 'v'], ['Accept', '*/*']]],
    ['empty Connection tokens are ignored', [['Connection', ' , ,'], ['X-A', '1']], [['X-A', '1']]],
    ['empty stays empty', [], []],
  ])('%s', (_name, input, expected) => {
    expect(stripHopByHop(input)).toEqual(expected);
  });

  it('does not modify its input', () => {
    const input: RawHeaders = [['Connection', 'close']];
    stripHopByHop(input);
    expect(input).toEqual([['Connection', 'close']]);
  });
});

describe('viaHasLoop', () => {
  it.each<[string, RawHeaders, boolean]>([
    ['no Via', [], false],
    ['other proxies only', [['Via', '1.1 squid, 1.0 fred']], false],
    ['our pseudonym', [['Via', '1.1 squid, 1.1 portico']], true],
    ['case-insensitive, on a second line', [['via', '1.1 a'], ['VIA', 'HTTP/1.1 PORTICO (Portico)']], true],
    ['pseudonym only inside a comment', [['Via', '1.1 squid (portico, really)']], false],
    ['comment with a comma before ours', [['Via', '1.1 a (x, y), 1.1 portico']], true],
    ['a longer name is not ours', [['Via', '1.1 portico2']], false],
    ['protocol token only', [['Via', 'portico']], false],
  ])('%s → %s', (_name, headers, expected) => {
    expect(viaHasLoop(headers, 'portico')).toBe(expected);
  });
});

describe('forwardedStage', () => {
  const stage = forwardedStage({ via: { enabled: true, pseudonym: 'portico' } });

  it('strips and appends Via with the request version', async () => {
    const flow = makeFlow({ url: 'http://a.example/', version: '1.0', headers: [['Via', '1.1 up'], ['Connection', 'X-A'], ['X-A', '1'], ['Accept', '*/*']] });
    expect(await stage.onRequest?.(flow, ctx)).toEqual({ kind: 'continue' });
    expect(flow.request.headers).toEqual([['Via', '1.1 up'], ['Accept', '*/*'], ['Via', '1.0 portico']]);
  });

  it('answers a loop with 508', async () => {
    const flow = makeFlow({ url: 'http://a.example/', headers: [['Via', '1.1 portico']] });
    const verdict = await stage.onRequest?.(flow, ctx);
    expect(verdict?.kind).toBe('reply');
    if (verdict?.kind === 'reply') expect(verdict.head.status).toBe(508);
    expect(flow.error?.code).toBe('LOOP_DETECTED');
  });

  it('cleans the response and appends Via', async () => {
    const flow = makeFlow({ url: 'http://a.example/' });
    flow.response = { status: 200, headers: [['Content-Type', 'text/plain'], ['Transfer-Encoding', 'chunked'], ['Keep-Alive', 'timeout=5'], ['Connection', 'X-Hop'], ['X-Hop', 'secret']] };
    await stage.onResponse?.(flow, ctx);
    expect(flow.response.headers).toEqual([['Content-Type', 'text/plain'], ['Via', '1.1 portico']]);
  });

  it('with Via disabled: strips only, and does not look for loops', async () => {
    const quiet = forwardedStage({ via: { enabled: false, pseudonym: 'portico' } });
    const flow = makeFlow({ url: 'http://a.example/', headers: [['Via', '1.1 portico'], ['TE', 'trailers']] });
    expect(await quiet.onRequest?.(flow, ctx)).toEqual({ kind: 'continue' });
    expect(flow.request.headers).toEqual([['Via', '1.1 portico']]);
    expect(appendVia([], '1.1', 'x')).toEqual([['Via', '1.1 x']]);
  });
});
