import { readFile } from 'node:fs/promises';
import { importSPKI, importX509, jwtVerify, type CryptoKey, type JWTVerifyOptions } from 'jose';
import type { Clock } from '../core/clock.js';
import type { Flow } from '../core/flow.js';
import { getHeader } from '../core/headers.js';
import type { Stage, Verdict } from '../core/stage.js';
import { admit, quote, unauthorized } from './unauthorized.js';

export interface JwtAuthOptions {
  /** HS256 shared secret, inline or in a file (at least 32 bytes, RFC 7518 §3.2). */
  readonly secret?: string;
  readonly secretFile?: string;
  /** RS256 verification key: a PEM public key (SPKI) or X.509 certificate. */
  readonly publicKeyFile?: string;
  /** Required `iss` (one of). */
  readonly issuer?: readonly string[];
  /** Required `aud` (one of). */
  readonly audience?: readonly string[];
  /** Tolerance on exp / nbf / iat for clocks that disagree. */
  readonly clockSkewSec: number;
  /** Tokens without `exp` are refused (never-expiring bearer tokens are a standing risk). */
  readonly requireExp: boolean;
  readonly realm: string;
  /** Pass the Authorization field on to the backend (default true: a JWT is meant to travel). */
  readonly forwardCredentials: boolean;
}

type Alg = 'HS256' | 'RS256';
type Keys = Partial<Record<Alg, CryptoKey | Uint8Array>>;

const MIN_SECRET_BYTES = 32;

/** Loads the configured keys once; a bad key file fails the (re)load with its path. */
export async function loadJwtKeys(opts: Pick<JwtAuthOptions, 'secret' | 'secretFile' | 'publicKeyFile'>): Promise<Keys> {
  const keys: Keys = {};
  const secret = opts.secretFile !== undefined ? (await readFile(opts.secretFile, 'utf8')).trim() : opts.secret;
  if (secret !== undefined) {
    const bytes = new TextEncoder().encode(secret);
    if (bytes.length < MIN_SECRET_BYTES) throw new Error(`jwt: the HS256 secret must be at least ${MIN_SECRET_BYTES} bytes`);
    keys.HS256 = bytes;
  }
  if (opts.publicKeyFile !== undefined) {
    const pem = await readFile(opts.publicKeyFile, 'utf8');
    try {
      keys.RS256 = pem.includes('BEGIN CERTIFICATE') ? await importX509(pem, 'RS256') : await importSPKI(pem, 'RS256');
    } catch (err) {
      throw new Error(`jwt: ${opts.publicKeyFile}: not an RSA public key or certificate (${(err as Error).message})`);
    }
  }
  if (keys.HS256 === undefined && keys.RS256 === undefined) throw new Error('jwt: configure secret, secretFile (HS256) or publicKeyFile (RS256)');
  return keys;
}

/** Pure: what a jose failure tells the client (RFC 6750 error_description), never echoing the token. */
export function describeJwtError(err: unknown): string {
  const e = err as { code?: string; claim?: string; reason?: string };
  switch (e.code) {
    case 'ERR_JWT_EXPIRED': return 'the token has expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return e.claim === 'exp' && e.reason === 'missing' ? 'the token has no exp claim' : `claim ${e.claim ?? '?'} check failed`;
    case 'ERR_JOSE_ALG_NOT_ALLOWED': return 'the token algorithm is not accepted';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED': return 'the token signature is invalid';
    default: return 'the token is malformed';
  }
}

/** Bearer JWT per route (HS256 / RS256, RFC 6750 challenges): iss, aud, exp/nbf with clock skew; sub becomes the user. */
export async function jwtAuthStage(opts: JwtAuthOptions, deps: { clock: Clock }): Promise<Stage> {
  const keys = await loadJwtKeys(opts);
  const algorithms = (Object.keys(keys) as Alg[]);
  const base = `Bearer realm=${quote(opts.realm)}`;
  const verifyOpts = (): JWTVerifyOptions => ({
    algorithms, clockTolerance: opts.clockSkewSec, currentDate: new Date(deps.clock.now()),
    ...(opts.issuer === undefined ? {} : { issuer: [...opts.issuer] }),
    ...(opts.audience === undefined ? {} : { audience: [...opts.audience] }),
    ...(opts.requireExp ? { requiredClaims: ['exp'] } : {}),
  });
  const resolve = (header: { alg?: string }): CryptoKey | Uint8Array => {
    const key = header.alg === 'HS256' || header.alg === 'RS256' ? keys[header.alg] : undefined;
    // An algorithm we have no key for is refused by `algorithms` before this; the throw is a second net.
    if (key === undefined) throw Object.assign(new Error('alg not accepted'), { code: 'ERR_JOSE_ALG_NOT_ALLOWED' });
    return key;
  };
  const accept = (flow: Flow, sub: unknown): Verdict => admit(flow, typeof sub === 'string' ? sub : undefined, opts.forwardCredentials);
  return {
    name: 'jwt-auth',
    onRequest(flow) {
      const header = getHeader(flow.request.headers, 'authorization');
      if (header === undefined) return unauthorized(base, 'a bearer token is required');
      const m = /^bearer\s+([A-Za-z0-9_.-]+)\s*$/i.exec(header);
      if (!m) return unauthorized(`${base}, error="invalid_request"`, 'expected Authorization: Bearer <token>');
      return jwtVerify(m[1] as string, resolve, verifyOpts()).then(
        (r) => accept(flow, r.payload.sub),
        (err: unknown) => {
          const why = describeJwtError(err);
          return unauthorized(`${base}, error="invalid_token", error_description=${quote(why)}`, why);
        },
      );
    },
  };
}
