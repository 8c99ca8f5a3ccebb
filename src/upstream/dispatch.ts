import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Clock } from '../core/clock.js';
import { ProxyError } from '../core/errors.js';
import type { Body, Flow, RawHeaders, ResponseHead } from '../core/flow.js';
import { flowAborted, onFlowAbort } from '../core/flow-abort.js';
import type { UpstreamResponse } from '../core/stage.js';
import { shouldRetryReset } from './retry.js';

/**
 * The handler every exchange uses. Header fields arrive as strings from Portico's own HTTP/1.1 client (h1/) and as
 * Buffers from undici (parent proxies); accepting both lets one handler serve either.
 */
export interface ExchangeHandler {
  onConnect(abort: (err?: Error) => void): void;
  onHeaders(status: number, rawHeaders: ReadonlyArray<Buffer | string>, resume: () => void, statusText: string): boolean;
  onData(chunk: Buffer): boolean;
  onComplete(trailers: unknown): void;
  onError(err: Error): void;
}

/** What sends an exchange: an undici Dispatcher, or h1's pool and agent, which keep its dispatch(opts, handler) shape. */
export interface UpstreamDispatcher {
  dispatch(opts: {
    origin: string; path: string; method: string; headers: string[] | Record<string, string | string[]>;
    body: Readable | null; headersTimeout: number; bodyTimeout: number;
  }, handler: ExchangeHandler): boolean;
}

/** What origin.ts and parent-proxy.ts share: one exchange over a dispatcher, streamed both ways. */
export interface ExchangeOptions {
  readonly dispatcher: UpstreamDispatcher | Dispatcher;
  readonly clock: Clock;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly mapError: (err: unknown) => ProxyError;
  /** Headers as undici should send them (see upstreamHeaders); ProxyAgent needs the object form. */
  readonly headers: string[] | Record<string, string | string[]>;
  /** Told when the client is about to write this flow's request on a connection (connection-timings.ts). */
  readonly onConnect?: (flow: Flow) => void;
  /**
   * Answer with the body as bytes when it has fully arrived by the time the exchange resolves (a small response read
   * in one socket read, the usual case for a few KiB): the front door then writes it with one res.end(buffer) instead
   * of a Readable piped into the response. Only for callers whose readers accept a Uint8Array body.
   */
  readonly bufferComplete?: boolean;
}

/**
 * Fields undici refuses or writes itself (it throws on Transfer-Encoding, Keep-Alive, Upgrade and Expect, and frames
 * the body and manages Connection on its own). The forwarded stage has removed hop-by-hop fields already; this is the
 * safety net for a pipeline assembled without it, so a stray field is dropped, not a 500.
 */
const UNSENDABLE = new Set(['host', 'connection', 'keep-alive', 'upgrade', 'transfer-encoding', 'expect',
  'proxy-connection', 'proxy-authorization', 'te', 'trailer']);
/** The lengths of those names and of content-length, which upstreamHeaders also looks at. */
const UNSENDABLE_LENGTHS = new Set([...UNSENDABLE, 'content-length'].map((name) => name.length));

/** The request fields for undici's flat header list: Host from the target authority (RFC 9112 §3.2.2), then the rest. */
export function upstreamHeaders(headers: RawHeaders, authority: string, hasBody: boolean): string[] {
  const out = ['host', authority];
  let sawLength = false;
  for (const [name, value] of headers) {
    if (!UNSENDABLE_LENGTHS.has(name.length)) {
      out.push(name, value); // no unsendable name, nor content-length, has this length: no lowercasing
      continue;
    }
    const lower = name.toLowerCase();
    if (UNSENDABLE.has(lower)) continue;
    if (lower === 'content-length') {
      // A body-less request keeps no length; a duplicate length (same value, or node would have refused it) is dropped.
      if (!hasBody || sawLength) continue;
      sawLength = true;
    }
    out.push(name, value);
  }
  return out;
}

const NO_BODY_STATUS = new Set([204, 304]);

/** Sends the flow's request; retries once on the keep-alive race (retry.ts). Rejects with a ProxyError. */
export async function exchange(flow: Flow, opts: ExchangeOptions): Promise<UpstreamResponse> {
  if (flowAborted(flow)) throw new ProxyError('CLIENT_ABORTED', 'the client went away');
  for (let attempts = 1; ; attempts++) {
    const result = await attempt(flow, opts);
    // A microtask after the head: undici has handed over the rest of that socket read, often the whole body.
    if (result.ok) return { head: result.head, body: result.body && result.body.settle(opts.bufferComplete === true) };
    const retry = shouldRetryReset({
      method: flow.request.method, hasBody: flow.requestBody !== null,
      responseStarted: result.started, attempts, err: result.err,
    });
    if (!retry || flowAborted(flow)) throw opts.mapError(result.err);
  }
}

type Attempt = { ok: true; head: ResponseHead; body: PendingBody | null } | { ok: false; err: unknown; started: boolean };

/** A Readable fed by undici: push() returning false pauses the socket, and _read resumes it (constant memory). */
class ResponseBody extends Readable {
  resumeUpstream: (() => void) | undefined;
  abortUpstream: ((err: Error) => void) | undefined;
  complete = false;

  override _read(): void {
    this.resumeUpstream?.();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    // The client stopped reading (went away): release the upstream connection instead of draining it.
    if (!this.complete) this.abortUpstream?.(err ?? new ProxyError('CLIENT_ABORTED', 'response body discarded'));
    callback(err);
  }
}

/**
 * The response body between undici and the front door. Until exchange() settles it (a microtask after the head, i.e.
 * after undici has parsed the rest of that socket read), chunks are only collected; a body that has
 * completed by then is handed over as bytes (bufferComplete), anything else becomes a ResponseBody stream holding
 * the chunks so far. Building a Readable, piping it and ending it cost more than the 1 KiB it carried.
 */
class PendingBody {
  chunks: Buffer[] | undefined = [];
  size = 0;
  complete = false;
  error: Error | undefined;
  stream: ResponseBody | undefined;
  resume: (() => void) | undefined;
  abort: ((err: Error) => void) | undefined;

  data(chunk: Buffer): boolean {
    if (this.stream) return this.stream.push(chunk);
    this.chunks?.push(chunk);
    this.size += chunk.length;
    return true;
  }

  end(): void {
    this.complete = true;
    if (this.stream) {
      this.stream.complete = true;
      this.stream.push(null);
    }
  }

  fail(err: Error): void {
    if (this.stream) this.stream.destroy(err);
    else this.error ??= err;
  }

  /** The whole body when it is already there (bytes), else the stream that will carry it. */
  settle(asBytes: boolean): Body | Uint8Array {
    if (asBytes && this.complete && this.error === undefined && this.chunks) {
      const chunks = this.chunks;
      this.chunks = undefined;
      return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, this.size);
    }
    return this.toStream();
  }

  toStream(): ResponseBody {
    if (this.stream) return this.stream;
    const body = new ResponseBody();
    // A body error may fire before the front door starts reading; without a listener node would throw it globally.
    // Readers still see it: async iteration and stream.pipeline reject with the destroy error.
    body.on('error', () => undefined);
    body.resumeUpstream = this.resume;
    body.abortUpstream = this.abort;
    this.stream = body;
    for (const chunk of this.chunks ?? []) body.push(chunk);
    this.chunks = undefined;
    if (this.error) body.destroy(this.error);
    else if (this.complete) this.end();
    return body;
  }
}

function attempt(flow: Flow, opts: ExchangeOptions): Promise<Attempt> {
  const { url, method } = flow.request;
  return new Promise<Attempt>((resolve) => {
    const body = new PendingBody();
    let settled = false;
    let started = false;
    const aborted = (): ProxyError => new ProxyError('CLIENT_ABORTED', 'the client went away');
    const onAbort = (): void => {
      if (body.abort) body.abort(aborted());
    };
    const done = onFlowAbort(flow, onAbort);
    const handler: ExchangeHandler = {
      onConnect(abort) {
        opts.onConnect?.(flow);
        body.abort = abort;
        if (flowAborted(flow)) abort(aborted());
      },
      onHeaders(status, rawHeaders, resume, statusText) {
        if (status < 200) return true; // 1xx informational: not forwarded in this version
        started = true;
        settled = true;
        flow.timings.firstByte ??= opts.clock.monotonic();
        body.resume = resume;
        const head = { status, reason: statusText, headers: pairs(rawHeaders) };
        const empty = method === 'HEAD' || NO_BODY_STATUS.has(status);
        resolve({ ok: true, head, body: empty ? null : body });
        return true;
      },
      onData(chunk) {
        return body.data(chunk);
      },
      onComplete() {
        done();
        body.end();
      },
      onError(err) {
        done();
        if (!settled) {
          settled = true;
          resolve({ ok: false, err, started });
        } else {
          body.fail(opts.mapError(err));
        }
      },
    };
    const requestBody = flow.requestBody === null ? null : toReadable(flow.requestBody);
    try {
      (opts.dispatcher as UpstreamDispatcher).dispatch({
        origin: url.origin, path: `${url.pathname}${url.search}`, method,
        headers: opts.headers, body: requestBody,
        headersTimeout: opts.headersTimeoutMs, bodyTimeout: opts.bodyTimeoutMs,
      }, handler);
    } catch (err) {
      handler.onError(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

function toReadable(body: Body): Readable {
  return body instanceof Readable ? body : Readable.from(body, { objectMode: false });
}

/**
 * Raw header fields → RawHeaders: h1's strings as they are (llhttp made them latin1), undici's Buffers read as latin1,
 * which keeps every byte, as node writes header strings back.
 */
function pairs(raw: ReadonlyArray<Buffer | string>): RawHeaders {
  const out: RawHeaders = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([text(raw[i] as Buffer | string), text(raw[i + 1] as Buffer | string)]);
  return out;
}

function text(field: Buffer | string): string {
  return typeof field === 'string' ? field : field.toString('latin1');
}
