import { createHash } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../core/clock.js';
import { errorResponse } from '../core/error-page.js';
import { ProxyError } from '../core/errors.js';
import { getHeader, setHeader } from '../core/headers.js';
import type { Flow } from '../core/flow.js';
import { CONTINUE, type Stage, type Verdict } from '../core/stage.js';
import { loadHtpasswd, verifyPassword, type PasswordHash } from './htpasswd.js';

export { hashPasswordScrypt } from './htpasswd.js';

export interface AccessConfig {
  /** Client CIDRs (or single IPs) allowed to use the proxy; an empty list allows nobody. */
  allowClients: readonly string[];
  /** htpasswd-style file; when set, every client must also authenticate (407). */
  authFile?: string;
  realm: string;
}

export type AccessResult = { ok: true; user?: string } | { ok: false; code: 'FORBIDDEN_CLIENT' | 'PROXY_AUTH_REQUIRED' };

export interface AccessControl {
  readonly realm: string;
  /** The Proxy-Authenticate value for 407s (realm quoted and escaped), built once. */
  readonly challenge: string;
  /** True when clients must authenticate (an auth file is configured). */
  readonly requiresAuth: boolean;
  /** The address check alone (for paths that must refuse before reading credentials). */
  clientAllowed(clientIp: string): boolean;
  /** Address, then credentials; shared by plain requests, CONNECT and upgrades. */
  check(clientIp: string, proxyAuthorization: string | undefined): Promise<AccessResult>;
}

/** Successful verifications are remembered this long, so bcrypt's deliberate slowness is paid once per client. */
const VERIFIED_TTL_MS = 5 * 60_000;
const VERIFIED_MAX = 1024;
const CLIENT_MEMO_MAX = 4096;

/** Compiles the client list and loads the password file once; a bad entry fails startup with its location. */
export async function createAccessControl(cfg: AccessConfig, deps: { clock: Clock }): Promise<AccessControl> {
  const clients = compileClients(cfg.allowClients);
  const users = cfg.authFile ? await loadHtpasswd(cfg.authFile) : undefined;
  // Keyed by sha256 of the header, never the header itself: the cache must not hold passwords in clear.
  const verified = new LRUCache<string, string>({
    max: VERIFIED_MAX, ttl: VERIFIED_TTL_MS, perf: { now: () => deps.clock.monotonic() },
  });
  // BlockList.check builds a SocketAddress per call; an office has few client addresses, so answers are memoised
  // (bounded: the memo is dropped whole when it fills, e.g. under a scan from many addresses).
  const memo = new Map<string, boolean>();
  const clientAllowed = (ip: string): boolean => {
    const known = memo.get(ip);
    if (known !== undefined) return known;
    const addr = normaliseClientIp(ip);
    const family = isIP(addr);
    const allowed = family !== 0 && clients.check(addr, family === 4 ? 'ipv4' : 'ipv6');
    if (memo.size >= CLIENT_MEMO_MAX) memo.clear();
    memo.set(ip, allowed);
    return allowed;
  };
  const check = async (ip: string, header: string | undefined): Promise<AccessResult> => {
    if (!clientAllowed(ip)) return { ok: false, code: 'FORBIDDEN_CLIENT' };
    if (!users) return { ok: true };
    if (header === undefined) return { ok: false, code: 'PROXY_AUTH_REQUIRED' };
    const key = createHash('sha256').update(header).digest('hex');
    const cached = verified.get(key);
    if (cached !== undefined) return { ok: true, user: cached };
    const user = await verifyBasic(header, users);
    if (user === undefined) return { ok: false, code: 'PROXY_AUTH_REQUIRED' };
    verified.set(key, user);
    return { ok: true, user };
  };
  const challenge = `Basic realm="${cfg.realm.replace(/["\\]/g, '\\$&')}", charset="UTF-8"`;
  return { realm: cfg.realm, challenge, requiresAuth: users !== undefined, clientAllowed, check };
}

/** Sets flow.client.user, or answers 403 (address) / 407 with our realm's challenge (credentials). */
export function accessStage(control: AccessControl): Stage {
  const { challenge } = control;
  return {
    name: 'access',
    onRequest(flow) {
      // Requests inside a CONNECT tunnel carry no Proxy-Authorization: the CONNECT itself was authorised.
      if (flow.notes.tunnel !== undefined) return CONTINUE;
      // Without an auth file the decision is synchronous: no promise per request on the hot path.
      if (!control.requiresAuth) return control.clientAllowed(flow.client.ip) ? CONTINUE : refuse(flow, 'FORBIDDEN_CLIENT', challenge);
      return control.check(flow.client.ip, getHeader(flow.request.headers, 'proxy-authorization'))
        .then((result) => (result.ok ? accept(flow, result.user) : refuse(flow, result.code, challenge)));
    },
  };
}

function accept(flow: Flow, user: string | undefined): Verdict {
  if (user !== undefined) flow.client.user = user;
  return CONTINUE;
}

function refuse(flow: Flow, code: 'FORBIDDEN_CLIENT' | 'PROXY_AUTH_REQUIRED', challenge: string): Verdict {
  const auth = code === 'PROXY_AUTH_REQUIRED';
  const error = auth
    ? new ProxyError('PROXY_AUTH_REQUIRED', 'this proxy requires a user name and password')
    : new ProxyError('FORBIDDEN_CLIENT', `client ${flow.client.ip} is not allowed to use this proxy`);
  flow.error = error;
  const page = errorResponse(error, flow);
  const headers = auth ? setHeader(page.head.headers, 'Proxy-Authenticate', challenge) : page.head.headers;
  return { kind: 'reply', head: { ...page.head, headers }, body: page.body };
}

/** Basic credentials → the user name when the password matches; undefined for anything else. */
async function verifyBasic(header: string, users: ReadonlyMap<string, PasswordHash>): Promise<string | undefined> {
  const m = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  const user = decoded.slice(0, colon);
  const hash = users.get(user);
  // Unknown users pay for a verification too, so response time does not reveal which names exist.
  const ok = await verifyPassword(decoded.slice(colon + 1), hash);
  return ok && hash ? user : undefined;
}

function compileClients(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const raw of entries) {
    const entry = raw.trim();
    const m = /^([0-9a-fA-F:.]+)(?:\/(\d{1,3}))?$/.exec(entry);
    const family = m ? isIP(m[1] as string) : 0;
    const max = family === 4 ? 32 : 128;
    const bits = m?.[2] === undefined ? max : Number(m[2]);
    if (!m || family === 0 || bits > max) throw new Error(`access.allowClients: invalid CIDR "${raw}"`);
    list.addSubnet(m[1] as string, bits, family === 4 ? 'ipv4' : 'ipv6');
  }
  return list;
}

/** ::ffff:127.0.0.1 (a v4 client on a dual-stack socket) is 127.0.0.1; zone ids (fe80::1%eth0) are dropped. */
export function normaliseClientIp(ip: string): string {
  const addr = ip.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
  return mapped ? (mapped[1] as string) : addr;
}
