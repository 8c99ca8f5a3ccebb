import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../core/clock.js';
import type { Flow } from '../core/flow.js';
import { getHeader } from '../core/headers.js';
import type { Stage, Verdict } from '../core/stage.js';
import { loadHtpasswd, verifyPassword, type PasswordHash } from '../stages/htpasswd.js';
import { admit, quote, unauthorized } from './unauthorized.js';

export interface BasicAuthOptions {
  /** htpasswd-style file (bcrypt or scrypt hashes, see stages/htpasswd.ts). */
  readonly htpasswd: string;
  readonly realm: string;
  /** Pass the Authorization field on to the backend (default: removed once verified). */
  readonly forwardCredentials: boolean;
}

/** Successful verifications are remembered (keyed by a hash of the field) so bcrypt's cost is paid once per client. */
const VERIFIED_TTL_MS = 5 * 60_000;
const VERIFIED_MAX = 1024;

/** Pure: user and password from a Basic credentials field; undefined when it is not one. */
export function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  const m = header === undefined ? null : /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** HTTP Basic per route (RFC 7617): 401 with `WWW-Authenticate: Basic realm=…` until a user of the file signs in. */
export async function basicAuthStage(opts: BasicAuthOptions, deps: { clock: Clock }): Promise<Stage> {
  const users = await loadHtpasswd(opts.htpasswd);
  const verified = new LRUCache<string, string>({ max: VERIFIED_MAX, ttl: VERIFIED_TTL_MS, perf: { now: () => deps.clock.monotonic() } });
  const challenge = `Basic realm=${quote(opts.realm)}, charset="UTF-8"`;
  const accept = (flow: Flow, user: string): Verdict => admit(flow, user, opts.forwardCredentials);
  return {
    name: 'basic-auth',
    onRequest(flow) {
      const header = getHeader(flow.request.headers, 'authorization');
      const creds = parseBasic(header);
      if (header === undefined) return unauthorized(challenge, 'credentials required');
      if (creds === undefined) return unauthorized(challenge, 'malformed Basic credentials');
      const key = createHash('sha256').update(header).digest('hex');
      const known = verified.get(key);
      if (known !== undefined) return accept(flow, known);
      return check(users, creds).then((ok) => {
        if (!ok) return unauthorized(challenge, 'wrong user name or password');
        verified.set(key, creds.user);
        return accept(flow, creds.user);
      });
    },
  };
}

/** Unknown users pay for a verification too, so timing does not reveal which names exist. */
async function check(users: ReadonlyMap<string, PasswordHash>, creds: { user: string; password: string }): Promise<boolean> {
  const hash = users.get(creds.user);
  const ok = await verifyPassword(creds.password, hash);
  return ok && hash !== undefined;
}
