import { escapeHtml, wantsHtml } from '../core/error-page.js';
import type { Flow, Notes, ResponseHead } from '../core/flow.js';
import { getHeader } from '../core/headers.js';

type PolicyNote = NonNullable<Notes['policy']>;

/**
 * The 403 a blocked request gets: which rule (file:line), which list and category, and the request id that is also in
 * the log line, so the help desk can find the decision. HTML for browsers, plain text for everyone else.
 */
export function blockPage(note: PolicyNote, flow: Pick<Flow, 'id' | 'request'>): { head: ResponseHead; body: Uint8Array } {
  const html = wantsHtml(getHeader(flow.request.headers, 'accept'));
  const fields: Array<[string, string | undefined]> = [
    ['address', flow.request.url.href], ['rule', note.rule], ['rule file', note.source],
    ['category', note.category], ['list', note.list], ['request id', flow.id],
  ];
  const shown = fields.filter((f): f is [string, string] => f[1] !== undefined);
  const text = html ? htmlPage(shown, note.explain) : `403 Blocked by policy\n${shown.map(([k, v]) => `${k}: ${v}`).join('\n')}\nwhy: ${note.explain}\n`;
  const body = Buffer.from(text, 'utf8');
  return {
    head: {
      status: 403, reason: 'Blocked by policy',
      headers: [
        ['Content-Type', html ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8'],
        ['Content-Length', String(body.length)],
        ['Cache-Control', 'no-store'],
        ['X-Portico-Error', 'POLICY_BLOCKED'],
        ['X-Portico-Rule', note.rule],
      ],
    },
    body,
  };
}

function htmlPage(fields: ReadonlyArray<[string, string]>, explain: string): string {
  const rows = fields.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td><code>${escapeHtml(v)}</code></td></tr>`).join('');
  return '<!doctype html><html><head><meta charset="utf-8"><title>403 Blocked by policy</title>' +
    '<style>body{font-family:system-ui,sans-serif;max-width:44em;margin:4em auto;color:#222}th{text-align:left;padding-right:1em}' +
    'code{background:#eee;padding:0 .2em;word-break:break-all}</style></head>' +
    '<body><h1>Blocked by policy</h1><p>This address is not allowed by your organisation\'s web policy.</p>' +
    `<table>${rows}</table><p>${escapeHtml(explain)}</p>` +
    '<p>If you need it for your work, send the request id to your administrator. · Portico</p></body></html>\n';
}
