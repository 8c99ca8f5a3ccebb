import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { routeStage } from '../../../src/reverse/route-stage.js';
import { compileRoute } from '../../../src/reverse/routes.js';
import { hashKeyOf } from '../../../src/upstream/hash-key.js';
import { makeFlow, testClock } from '../../helpers/make-flow.js';

const ctx = { clock: testClock, log: pino({ level: 'silent' }) };

// Behind a trusted proxy every request arrives from the proxy's address; keys meant to follow a user must use the
// client that proxy names (notes.realIp, set by the client-headers stage), or one hop pins every user together.
describe('client keys behind a trusted proxy', () => {
  it('hash-ip keys on the resolved client, and on the peer when nothing was resolved', () => {
    const flow = makeFlow({ url: 'http://app.example/', clientIp: '10.0.0.1' });
    expect(hashKeyOf(flow, { kind: 'ip' })).toBe('10.0.0.1');
    flow.notes.realIp = '198.51.100.7';
    expect(hashKeyOf(flow, { kind: 'ip' })).toBe('198.51.100.7');
  });

  it('a canary sticky on ip splits the users behind one proxy, and keeps each user on one side', () => {
    const route = compileRoute({ id: 'r', pool: 'v1', canary: { pool: 'v2', percent: 50, sticky: 'ip', overrideHeader: 'X-Canary' } });
    const stage = routeStage({ routes: () => [route], random: () => 0.5, exposeBackend: false });
    const poolFor = (realIp: string): string | undefined => {
      const flow = makeFlow({ url: 'http://app.example/', clientIp: '10.0.0.1' });
      flow.notes.realIp = realIp;
      void stage.onRequest?.(flow, ctx);
      return flow.notes.pool;
    };
    const users = Array.from({ length: 200 }, (_, i) => `198.51.${i >> 8}.${i & 255}`);
    const pools = users.map(poolFor);
    expect(new Set(pools)).toEqual(new Set(['v1', 'v2'])); // one shared peer address would give a single pool
    expect(users.map(poolFor)).toEqual(pools);
  });
});
