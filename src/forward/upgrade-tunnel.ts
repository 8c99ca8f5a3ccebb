import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Clock } from '../core/clock.js';
import { ProxyError } from '../core/errors.js';
import type { Flow, Mode, RawHeaders } from '../core/flow.js';
import { fromNodeRaw } from '../core/headers.js';
import type { Pipeline } from '../core/pipeline.js';
import { clientAddress } from './client-address.js';
import { rawErrorReply } from './raw-reply.js';
import { splice } from './splice.js';

/**
 * What forward and reverse Upgrade handling (WebSocket as a byte tunnel) share: the flow of the exchange, the
 * request head replayed upstream, the splice that ends in the exchange's one flow.end, and the refusal.
 */
export function upgradeFlow(req: IncomingMessage, url: URL, mode: Mode, deps: { clock: Clock; nextId: () => string },
  client?: { ip: string; port: number }): Flow {
  return {
    id: deps.nextId(), mode, signal: new AbortController().signal,
    client: client ? { ...client } : clientAddress(req.socket), startedAt: deps.clock.now(),
    request: { method: req.method ?? 'GET', url, version: '1.1', headers: fromNodeRaw(req.rawHeaders) },
    requestBody: null, notes: {}, timings: { start: deps.clock.monotonic() }, bytesIn: 0, bytesOut: 0,
  };
}

/** Connection-scoped fields that must not cross (Connection/Upgrade stay: they are the upgrade). */
const DROP = new Set(['proxy-authorization', 'proxy-connection', 'keep-alive', 'te', 'trailer']);

/** The request head to replay on the upstream connection, with our Via appended when enabled. */
export function upgradeRequestHead(method: string, url: URL, headers: RawHeaders, via: string | undefined): string {
  const kept: RawHeaders = headers.filter(([k]) => !DROP.has(k.toLowerCase()));
  if (via) kept.push(['Via', `1.1 ${via}`]);
  const lines = [`${method} ${url.pathname}${url.search} HTTP/1.1`];
  for (const [k, v] of kept) lines.push(`${k}: ${v}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

export interface UpgradeSpliceDeps {
  readonly clock: Clock;
  readonly pipeline: Pipeline;
  readonly idleTimeoutMs: number;
  readonly tunnels: Set<Socket>;
}

/** Splices client and upstream, records the upstream's status line, and completes the flow when both close. */
export function spliceUpgrade(client: Socket, upstream: Socket, flow: Flow, deps: UpgradeSpliceDeps, onEnd?: () => void): void {
  upstream.once('data', (chunk: Buffer) => {
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(chunk.subarray(0, 16).toString('latin1'));
    flow.response = { status: m ? Number(m[1]) : 502, headers: [] };
    flow.timings.firstByte = deps.clock.monotonic();
  });
  splice(client, upstream, { idleTimeoutMs: deps.idleTimeoutMs, live: deps.tunnels }, (end) => {
    onEnd?.();
    flow.bytesIn = end.bytesUp;
    flow.bytesOut = end.bytesDown;
    const code = end.error?.startsWith('upstream') ? 'UPSTREAM_RESET' : 'CLIENT_ABORTED';
    deps.pipeline.complete(flow, end.error === undefined ? undefined : new ProxyError(code, end.error));
  });
}

/** Refuses an upgrade on the raw socket with a complete error response, and still emits the flow. */
export function refuseUpgrade(socket: Socket, flow: Flow, error: ProxyError, pipeline: Pipeline, extraHeaders: string[] = []): void {
  flow.error = error;
  flow.response = { status: error.status, headers: [] };
  rawErrorReply(socket, error, flow.id, extraHeaders);
  pipeline.complete(flow);
}
