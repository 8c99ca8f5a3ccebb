import type { buildConnector } from 'undici';
import type { Readable } from 'node:stream';

/**
 * What the client tells the one who sent a request, in the order undici's legacy handler API uses (dispatch.ts
 * drives both): onConnect right before the request is written, onHeaders once per final response, onData per body
 * chunk (false: stop reading until resume), then exactly one of onComplete or onError.
 */
export interface H1Handler {
  onConnect?(abort: (err?: Error) => void): void;
  onHeaders?(statusCode: number, headers: ReadonlyArray<string>, resume: () => void, statusText: string): boolean;
  onData?(chunk: Buffer): boolean;
  onComplete?(trailers: string[] | null): void;
  onError?(err: Error): void;
}

export interface H1DispatchOptions {
  readonly method: string;
  /** origin-form target (`/path?query`). */
  readonly path: string;
  /** Flat name, value list (Host first), as dispatch.ts's upstreamHeaders builds it. */
  readonly headers?: ReadonlyArray<string> | Record<string, string | string[]> | null;
  readonly body?: Readable | null;
  /** Per-request overrides of the pool's timeouts (ms; 0 disables). */
  readonly headersTimeout?: number;
  readonly bodyTimeout?: number;
}

/** undici's connector (buildConnector): TLS, the guarded lookup, the connect timeout and TLS session reuse stay undici's. */
export type Connector = buildConnector.connector;

/**
 * What an H1Connection uses of its socket: a net.Socket (or TLS socket) from the connector, or a RawSocket on a libuv
 * handle (raw-socket.ts). One listener per event is all it registers. A 'data' chunk may be reused once the listener
 * returns (RawSocket's shared read buffer): the connection's llhttp parser copies every field and body chunk it hands on.
 */
export interface H1Socket {
  on(event: 'data', fn: (chunk: Buffer) => void): unknown;
  on(event: 'end' | 'close' | 'drain', fn: () => void): unknown;
  on(event: 'error', fn: (err: Error) => void): unknown;
  write(data: string, encoding: 'latin1'): boolean;
  write(data: Uint8Array): boolean;
  cork(): void;
  uncork(): void;
  pause(): unknown;
  resume(): unknown;
  destroy(): unknown;
  readonly destroyed: boolean;
  readonly bytesRead: number;
}
