import pino from 'pino';
import type { Clock } from '../core/clock.js';
import type { Flow } from '../core/flow.js';
import { getHeader } from '../core/headers.js';
import type { Stage } from '../core/stage.js';
import { basicAuthStage } from './basic-auth.js';
import { jwtAuthStage } from './jwt-auth.js';
import { limitKey } from './rate-limit-stage.js';
import type { AuthConfig, RateLimitConfig } from './schema.js';
import { quote, refusalReason } from './unauthorized.js';

/** A store URL for display: the password of `redis://user:pass@host` is never printed. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z+-]+:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

/** Pure: a route's auth settings in one line. */
export function describeAuth(cfg: AuthConfig): string {
  if (cfg.type === 'basic') {
    return `basic realm=${quote(cfg.realm)}, users from ${cfg.htpasswd}, Authorization ${cfg.forwardCredentials ? 'passed on to' : 'removed before'} the backend`;
  }
  const algs = [...(cfg.secret !== undefined || cfg.secretFile !== undefined ? ['HS256'] : []), ...(cfg.publicKeyFile !== undefined ? ['RS256'] : [])];
  const claims = [cfg.issuer && `iss ${cfg.issuer.join('|')}`, cfg.audience && `aud ${cfg.audience.join('|')}`, cfg.requireExp ? 'exp required' : 'exp optional']
    .filter(Boolean).join(', ');
  return `jwt ${algs.join('/')} realm=${quote(cfg.realm)}, ${claims}, clock skew ${cfg.clockSkewSec} s, token ${cfg.forwardCredentials ? 'forwarded' : 'removed'}`;
}

/**
 * Runs the route's real auth stage on the request (its files are read as a reload would) and says whether it would
 * be admitted, as whom, or why not; a file that cannot be loaded is reported, as the proxy would refuse the config.
 */
export async function explainAuth(cfg: AuthConfig, flow: Flow, clock: Clock): Promise<string> {
  let stage: Stage;
  try {
    stage = cfg.type === 'basic' ? await basicAuthStage(cfg, { clock }) : await jwtAuthStage(cfg, { clock });
  } catch (err) {
    return `cannot be loaded: ${(err as Error).message} (the proxy would refuse this config)`;
  }
  const given = getHeader(flow.request.headers, 'authorization') === undefined ? 'no Authorization' : 'the Authorization given';
  const v = await stage.onRequest?.(flow, { clock, log: pino({ level: 'silent' }) });
  if (v === undefined || v.kind === 'continue') return `${given}: admitted${flow.client.user === undefined ? '' : ` as ${flow.client.user}`}`;
  return `${given}: refused, 401 (${refusalReason(v) ?? 'unauthorized'})`;
}

/** Pure: a route's rate limit in one line, with the bucket this request would draw from. */
export function describeRateLimit(cfg: RateLimitConfig, clientIp: string, flow: Pick<Flow, 'request'>): string {
  const per = cfg.key === 'ip' ? 'client IP' : `header ${cfg.key.slice(7)} (else client IP)`;
  const where = cfg.store === 'memory' ? 'in memory (per instance)' : `shared in ${redactUrl(cfg.store)} (Redis down: ${cfg.onStoreDown})`;
  return `${cfg.ratePerSecond}/s burst ${cfg.burst} per ${per}, ${where}; bucket "${limitKey(cfg.key, clientIp, flow.request.headers)}"`;
}
