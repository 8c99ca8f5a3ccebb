import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { Body, Flow, ResponseHead } from './flow.js';

/** What a stage's onRequest decides. Stages say no by returning a value, never by throwing. */
export type Verdict =
  | { kind: 'continue' }
  | { kind: 'reply'; head: ResponseHead; body?: Uint8Array | Body }
  | { kind: 'kill'; reason: string };

export const CONTINUE: Verdict = Object.freeze({ kind: 'continue' });

export interface StageContext {
  readonly clock: Clock;
  readonly log: Logger;
}

/**
 * One concern of the HTTP pipeline (mitmproxy addon / Envoy filter). onRequest hooks run in order and the first
 * non-continue verdict wins; onResponse hooks run in reverse order for every stage whose onRequest ran, also after a
 * local reply or an upstream error, so they see every note.
 */
export interface Stage {
  readonly name: string;
  onRequest?(flow: Flow, ctx: StageContext): Verdict | Promise<Verdict>;
  onResponse?(flow: Flow, ctx: StageContext): void | Promise<void>;
  close?(): Promise<void>;
}

/** body: a stream, or the whole body as bytes when the upstream already had all of it (dispatch.ts bufferComplete). */
export interface UpstreamResponse { head: ResponseHead; body: Body | Uint8Array | null }

/** The terminal sender of a pipeline: an origin, a balanced pool, a parent proxy. */
export interface Upstream {
  send(flow: Flow, ctx: StageContext): Promise<UpstreamResponse>;
  close?(): Promise<void>;
}
