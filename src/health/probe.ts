import http from 'node:http';
import net from 'node:net';

export interface ProbeTarget {
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

export interface ProbeSpec {
  readonly kind: 'http' | 'tcp';
  /** HTTP checks only: the request path (HAProxy `option httpchk GET /healthz`). */
  readonly path: string;
  /** HTTP checks only: the statuses that pass, inclusive (HAProxy passes 2xx and 3xx by default). */
  readonly expectStatus: readonly [min: number, max: number];
  /** Host header sent with HTTP checks; the backend's host:port when unset. */
  readonly hostHeader?: string;
}

export interface ProbeResult { readonly ok: boolean; readonly detail: string }

/** One check of one backend; resolves (never rejects) with a pass or a failure and its reason. */
export type Probe = (target: ProbeTarget, spec: ProbeSpec, signal: AbortSignal) => Promise<ProbeResult>;

function httpProbe(target: ProbeTarget, spec: ProbeSpec, signal: AbortSignal): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const req = http.request({
      host: target.host, port: target.port, path: spec.path, method: 'GET', agent: false, signal,
      headers: { host: spec.hostHeader ?? `${target.host}:${target.port}`, 'user-agent': 'portico-health', connection: 'close' },
    }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      const [min, max] = spec.expectStatus;
      resolve({ ok: status >= min && status <= max, detail: `HTTP ${status} on ${spec.path}` });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      resolve({ ok: false, detail: signal.aborted ? 'check timed out' : `${err.code ?? err.message} on ${spec.path}` });
    });
    req.end();
  });
}

function tcpProbe(target: ProbeTarget, _spec: ProbeSpec, signal: AbortSignal): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: target.host, port: target.port, signal });
    socket.once('connect', () => {
      socket.destroy();
      resolve({ ok: true, detail: 'TCP connect' });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve({ ok: false, detail: signal.aborted ? 'check timed out' : `TCP ${err.code ?? err.message}` });
    });
  });
}

/** HTTP (path, expected status) or TCP connect, chosen by the spec. */
export const networkProbe: Probe = (target, spec, signal) =>
  spec.kind === 'http' ? httpProbe(target, spec, signal) : tcpProbe(target, spec, signal);
