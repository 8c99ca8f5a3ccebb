import type { ProxyError } from './errors.js';
import type { Flow, ResponseHead } from './flow.js';
import { getHeader } from './headers.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

export function wantsHtml(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes('text/html');
}

/** A short page naming the cause; the request id links it to the log line (Caddy's HandlerError.ID). */
export function errorResponse(error: ProxyError, flow: Pick<Flow, 'id' | 'request'>): { head: ResponseHead; body: Uint8Array } {
  const html = wantsHtml(getHeader(flow.request.headers, 'accept'));
  const text = html
    ? `<!doctype html><html><head><meta charset="utf-8"><title>${error.status} ${escapeHtml(error.title)}</title>` +
      `<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;color:#222}code{background:#eee;padding:0 .2em}</style></head>` +
      `<body><h1>${error.status} ${escapeHtml(error.title)}</h1><p>${escapeHtml(error.message)}</p>` +
      `<p>Error <code>${error.code}</code> · request id <code>${escapeHtml(flow.id)}</code> · Portico</p></body></html>\n`
    : `${error.status} ${error.title}: ${error.message}\nerror: ${error.code}\nrequest-id: ${flow.id}\n`;
  const body = Buffer.from(text, 'utf8');
  const headers: ResponseHead['headers'] = [
    ['Content-Type', html ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8'],
    ['Content-Length', String(body.length)],
    ['Cache-Control', 'no-store'],
    ['X-Portico-Error', error.code],
  ];
  return { head: { status: error.status, reason: error.title, headers }, body };
}
