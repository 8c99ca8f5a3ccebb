import { connect, isIP, type Socket } from 'node:net';
import { ProxyError } from '../core/errors.js';
import { mapUpstreamError } from './errors.js';
import { createGuardedLookup, type Resolver } from './lookup.js';
import { canonicalHost, type TargetGuard } from './target-guard.js';

export interface DialOptions {
  guard: TargetGuard;
  /** Bounds the whole dial: DNS + TCP connect, and with a parent proxy also its answer to CONNECT. 0 = no bound. */
  connectTimeoutMs: number;
  parentProxy?: URL;
  signal?: AbortSignal;
  resolve?: Resolver;
}

/** The parent's answer to CONNECT may not exceed this (status line + headers). */
export const MAX_CONNECT_REPLY_BYTES = 16 * 1024;

/**
 * Opens the TCP connection for a blind CONNECT tunnel, before the client is told 200, so a refused or forbidden
 * target becomes a real status (502/403/504) instead of a tunnel that dies at once. Resolves with the connected socket
 * (not yet flowing; any bytes the parent sent past its header block unshifted back), or rejects with a ProxyError.
 */
export function dialTunnel(target: { host: string; port: number }, opts: DialOptions): Promise<Socket> {
  const host = canonicalHost(target.host);
  if (host === undefined) return Promise.reject(new ProxyError('BAD_REQUEST', `"${target.host}" is not a valid host`));
  const verdict = opts.guard.checkHost(host, target.port);
  if (!verdict.ok) return Promise.reject(new ProxyError('FORBIDDEN_TARGET', verdict.reason));
  if (opts.signal?.aborted) return Promise.reject(aborted());
  const parent = opts.parentProxy;
  if (parent) {
    if (parent.protocol !== 'http:') return Promise.reject(new ProxyError('UPSTREAM_PROXY', `unsupported parent proxy ${parent.protocol}`));
    const name = `${parent.hostname}:${parent.port || 80}`;
    const socket = connect({ host: parent.hostname.replace(/^\[|\]$/g, ''), port: Number(parent.port || 80) });
    const steps = async (): Promise<void> => {
      await connected(socket).catch((err: unknown) => {
        throw new ProxyError('UPSTREAM_PROXY', `parent proxy ${name} is unreachable: ${mapUpstreamError(err).message}`, { cause: err });
      });
      await askParent(socket, authority(host, target.port), parent, name);
    };
    return settle(socket, steps, opts, `the parent proxy ${name} did not set up the tunnel in time`);
  }
  const lookup = createGuardedLookup({ guard: opts.guard, port: target.port, ...(opts.resolve ? { resolve: opts.resolve } : {}) });
  const socket = connect({ host, port: target.port, lookup });
  return settle(socket, () => connected(socket), opts, `connecting to ${authority(host, target.port)} timed out`);
}

/** Runs the dial steps under one deadline and the abort signal; on any failure the socket is destroyed. */
function settle(socket: Socket, steps: () => Promise<void>, opts: DialOptions, timeoutMessage: string): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const fail = (err: unknown): void => {
      cleanup();
      socket.destroy();
      reject(mapUpstreamError(err));
    };
    const onAbort = (): void => fail(aborted());
    const timer = opts.connectTimeoutMs > 0
      ? setTimeout(() => fail(new ProxyError('CONNECT_TIMEOUT', timeoutMessage)), opts.connectTimeoutMs)
      : undefined;
    const cleanup = (): void => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    steps().then(() => {
      cleanup();
      resolve(socket);
    }, fail);
  });
}

function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

async function askParent(socket: Socket, target: string, parent: URL, name: string): Promise<void> {
  const auth = parent.username
    ? `Proxy-Authorization: Basic ${Buffer.from(`${decodeURIComponent(parent.username)}:${decodeURIComponent(parent.password)}`).toString('base64')}\r\n`
    : '';
  socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth}\r\n`);
  const reply = await readReply(socket);
  if (reply.kind === 'invalid') throw new ProxyError('UPSTREAM_PROXY', `parent proxy ${name}: ${reply.reason}`);
  if (reply.kind !== 'done') throw new ProxyError('UPSTREAM_PROXY', `parent proxy ${name} closed the connection`);
  if (reply.status < 200 || reply.status > 299) {
    throw new ProxyError('UPSTREAM_PROXY', `parent proxy ${name} answered ${reply.status}${reply.reason ? ` ${reply.reason}` : ''} to CONNECT ${target}`);
  }
}

/**
 * Reads the parent's reply head in paused mode ('readable' + read()), so that once the listener is removed the socket
 * is back to its initial state: whoever takes it over with pipe() or on('data') gets every byte, including tunnel
 * bytes that arrived with the head, which are unshifted.
 */
function readReply(socket: Socket): Promise<ConnectReply> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const finish = (reply: ConnectReply): void => {
      socket.off('readable', onReadable).off('error', reject).off('end', onEnd);
      if (reply.kind === 'done' && reply.headerBytes < buf.length) socket.unshift(buf.subarray(reply.headerBytes));
      resolve(reply);
    };
    const onReadable = (): void => {
      for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) {
        buf = Buffer.concat([buf, chunk]);
        const reply = parseConnectReply(buf);
        if (reply.kind !== 'incomplete') return finish(reply);
      }
    };
    const onEnd = (): void => finish({ kind: 'incomplete' });
    socket.on('readable', onReadable).once('error', reject).once('end', onEnd);
  });
}

export type ConnectReply =
  | { kind: 'incomplete' }
  | { kind: 'done'; status: number; reason: string; headerBytes: number }
  | { kind: 'invalid'; reason: string };

/** Pure: the status of a CONNECT reply once its header block is complete, bounded to MAX_CONNECT_REPLY_BYTES. */
export function parseConnectReply(buf: Buffer, maxBytes = MAX_CONNECT_REPLY_BYTES): ConnectReply {
  const end = buf.indexOf('\r\n\r\n');
  if (end === -1 || end + 4 > maxBytes) {
    return buf.length >= maxBytes ? { kind: 'invalid', reason: `reply head larger than ${maxBytes} bytes` } : { kind: 'incomplete' };
  }
  const statusLine = buf.subarray(0, buf.indexOf('\r\n')).toString('latin1');
  const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
  if (!m) return { kind: 'invalid', reason: `malformed status line "${statusLine.slice(0, 80)}"` };
  return { kind: 'done', status: Number(m[1]), reason: m[2] ?? '', headerBytes: end + 4 };
}

/** host:port for a request line; IPv6 in brackets. */
export function authority(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

function aborted(): ProxyError {
  return new ProxyError('CLIENT_ABORTED', 'the client went away before the tunnel was set up');
}
