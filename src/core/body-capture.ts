import type { RawHeaders } from './flow.js';

/**
 * The first `limit` bytes of each body, kept only when `log.bodies` > 0 (the pipeline attaches it to the flow; the
 * front door's byte counters feed it). At most limit bytes per side, whatever the body size.
 */
export class BodyCapture {
  readonly request: Uint8Array[] = [];
  readonly response: Uint8Array[] = [];
  private requestBytes = 0;
  private responseBytes = 0;

  constructor(readonly limit: number) {}

  onRequest(chunk: Uint8Array): void {
    if (this.requestBytes >= this.limit) return;
    const part = chunk.subarray(0, this.limit - this.requestBytes);
    this.request.push(Uint8Array.from(part)); // a copy: the stream may reuse its buffer
    this.requestBytes += part.byteLength;
  }

  onResponse(chunk: Uint8Array): void {
    if (this.responseBytes >= this.limit) return;
    const part = chunk.subarray(0, this.limit - this.responseBytes);
    this.response.push(Uint8Array.from(part));
    this.responseBytes += part.byteLength;
  }
}

const TEXT = /^(?:text\/|application\/(?:json|xml|javascript|x-www-form-urlencoded|graphql)|[^;]*\+(?:json|xml)\s*(?:;|$))/i;

/** The captured bytes as text, only for uncompressed text media types (else undefined). */
export function capturedText(chunks: readonly Uint8Array[], headers: RawHeaders | undefined): string | undefined {
  if (chunks.length === 0 || !headers) return undefined;
  let type = '';
  for (const [name, value] of headers) {
    const n = name.toLowerCase();
    if (n === 'content-encoding' && value.trim().toLowerCase() !== 'identity') return undefined;
    if (n === 'content-type') type = value.trim();
  }
  if (!TEXT.test(type)) return undefined;
  return Buffer.concat(chunks).toString('utf8');
}
