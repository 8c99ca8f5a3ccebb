import http from 'node:http';
import https from 'node:https';
import type { FlowRecord } from '../core/flow.js';
import { SseParser, toTuiEvent } from './sse.js';
import type { FlowSource, Sink } from './source.js';

export interface SseSourceOptions {
  /** Admin base URL, e.g. http://127.0.0.1:9090 */
  url: string;
  token?: string;
  /** Recent flows fetched once at start from GET /flows?limit=N (0: none). */
  backfill?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Response bodies of /flows and /upstreams larger than this are refused. */
  maxBodyBytes?: number;
}

function client(url: URL): typeof http | typeof https {
  return url.protocol === 'https:' ? https : http;
}

/** The admin endpoint over node:http: GET /events as SSE, reconnecting with exponential back-off. */
export class SseSource implements FlowSource {
  readonly label: string;
  private readonly base: URL;
  private req: http.ClientRequest | undefined;
  private timer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private state = 'connecting';
  private closed = false;
  private connected = false;

  constructor(private readonly opts: SseSourceOptions) {
    this.base = new URL(opts.url);
    this.label = this.base.origin;
    this.backoffMs = opts.initialBackoffMs ?? 250;
  }

  private headers(accept: string): http.OutgoingHttpHeaders {
    const h: http.OutgoingHttpHeaders = { accept };
    if (this.opts.token) h.authorization = `Bearer ${this.opts.token}`;
    return h;
  }

  /** GET path → parsed JSON (bounded body). */
  getJson(path: string): Promise<unknown> {
    const url = new URL(path, this.base);
    const limit = this.opts.maxBodyBytes ?? 64 << 20;
    return new Promise((resolve, reject) => {
      const req = client(url).get(url, { headers: this.headers('application/json') }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return reject(new Error(`GET ${url.pathname}: HTTP ${res.statusCode}`));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > limit) req.destroy(new Error(`GET ${url.pathname}: body over ${limit} bytes`));
          else chunks.push(c);
        });
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
      });
      req.on('error', reject);
    });
  }

  upstreams(): Promise<unknown> {
    return this.getJson('/upstreams');
  }

  status(): string {
    return this.state;
  }

  start(sink: Sink): void {
    void this.backfill(sink).then(() => this.connect(sink));
  }

  /** Recent flows from the ring; after a reconnect they fill the gap (the store drops the ids it already has). */
  private async backfill(sink: Sink): Promise<void> {
    const n = this.opts.backfill ?? 0;
    if (n <= 0) return;
    const body = await this.getJson(`/flows?limit=${n}`).catch(() => undefined);
    if (Array.isArray(body)) for (const flow of body as FlowRecord[]) sink({ type: 'flow.end', flow });
  }

  private connect(sink: Sink): void {
    if (this.closed) return;
    const url = new URL('/events', this.base);
    const parser = new SseParser();
    const req = client(url).get(url, { headers: this.headers('text/event-stream') }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return this.retry(sink, `HTTP ${res.statusCode}`);
      }
      this.state = 'live';
      this.backoffMs = this.opts.initialBackoffMs ?? 250;
      if (this.connected) void this.backfill(sink);
      this.connected = true;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        for (const msg of parser.feed(chunk)) {
          const ev = toTuiEvent(msg);
          if (ev) sink(ev);
        }
      });
      res.on('end', () => this.retry(sink, 'stream ended'));
      res.on('error', (err) => this.retry(sink, err.message));
      res.on('close', () => this.retry(sink, 'connection closed')); // the admin process died mid-stream
    });
    req.on('error', (err: NodeJS.ErrnoException) => this.retry(sink, err.code ?? err.message));
    this.req = req;
  }

  private retry(sink: Sink, why: string): void {
    if (this.closed || this.timer) return;
    this.req?.destroy();
    const wait = this.backoffMs;
    this.state = `reconnecting in ${(wait / 1000).toFixed(1)}s: ${why}`;
    this.backoffMs = Math.min(this.backoffMs * 2, this.opts.maxBackoffMs ?? 10_000);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.state = 'connecting';
      this.connect(sink);
    }, wait);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.req?.destroy();
  }
}
