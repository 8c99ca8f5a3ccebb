import type { TuiEvent } from './store.js';

export interface SseMessage { event: string; data: string }

const MAX_LINE = 1 << 20;

/**
 * An incremental Server-Sent Events parser (WHATWG: CR, LF or CRLF lines; `event:`, multi-line `data:`, `:` comments;
 * a blank line dispatches). Lines longer than 1 MiB are dropped rather than buffered without bound.
 */
export class SseParser {
  private rest = '';
  private skipLf = false;
  private event = '';
  private data: string[] = [];

  feed(chunk: string): SseMessage[] {
    const out: SseMessage[] = [];
    let text = this.rest + chunk;
    if (this.skipLf && text.startsWith('\n')) text = text.slice(1);
    this.skipLf = false;
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c !== '\n' && c !== '\r') continue;
      this.line(text.slice(start, i), out);
      if (c === '\r') {
        if (i + 1 === text.length) this.skipLf = true;
        else if (text[i + 1] === '\n') i++;
      }
      start = i + 1;
    }
    this.rest = text.slice(start);
    if (this.rest.length > MAX_LINE) this.rest = '';
    return out;
  }

  private line(line: string, out: SseMessage[]): void {
    if (line === '') {
      if (this.data.length > 0) out.push({ event: this.event || 'message', data: this.data.join('\n') });
      this.event = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
  }
}

/** Maps the admin endpoint's SSE messages to the store's events; unknown or malformed messages give undefined. */
export function toTuiEvent(msg: SseMessage): TuiEvent | undefined {
  let body: unknown;
  try {
    body = JSON.parse(msg.data);
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const o = body as Record<string, unknown>;
  switch (msg.event) {
    case 'flow':
      return typeof o.id === 'string' && typeof o.url === 'string'
        ? { type: 'flow.end', flow: o as unknown as Extract<TuiEvent, { type: 'flow.end' }>['flow'] } : undefined;
    case 'tunnel':
      return typeof o.id === 'string' && typeof o.target === 'string'
        ? { ...(o as unknown as Extract<TuiEvent, { type: 'tunnel.end' }>), type: 'tunnel.end' } : undefined;
    case 'health':
      return typeof o.pool === 'string' && typeof o.backend === 'string'
        ? { ...(o as unknown as Extract<TuiEvent, { type: 'backend.health' }>), type: 'backend.health' } : undefined;
    case 'dropped':
      return typeof o.dropped === 'number' ? { type: 'dropped', dropped: o.dropped } : undefined;
    default:
      return undefined;
  }
}
