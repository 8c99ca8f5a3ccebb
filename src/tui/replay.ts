import { ProxyAgent, request } from 'undici';
import { missingBodyNote, requestBodyCapture } from '../observe/request-body.js';
import type { Entry } from './entry.js';
import { replayHeaders } from './curl.js';

export interface ReplayResult { ok: boolean; text: string }

/**
 * Sends the flow's request again through the proxy (undici via the proxy URL) and reports the status. A request
 * body captured whole (`log.bodies`) is sent again byte for byte; one that was truncated or not captured is not sent,
 * and the result says so. Never throws.
 */
export async function replay(e: Entry, proxyUrl: string | undefined, timeoutMs = 10_000): Promise<ReplayResult> {
  if (!proxyUrl) return { ok: false, text: 'replay needs the proxy URL (tui --proxy URL)' };
  if (e.kind !== 'flow') return { ok: false, text: 'a tunnel has no HTTP request to replay' };
  // Plain http:// goes to the proxy in absolute form, as a browser sends it; only https:// needs a CONNECT.
  const agent = new ProxyAgent({ uri: proxyUrl, proxyTunnel: e.flow.url.startsWith('https:') });
  const captured = requestBodyCapture(e.flow);
  const body = captured.kind === 'complete' ? Buffer.from(captured.text, 'utf8') : undefined;
  const note = missingBodyNote(captured);
  try {
    const headers: Record<string, string> = {};
    for (const [name, value] of replayHeaders(e.flow)) headers[name.toLowerCase()] = value;
    const res = await request(e.flow.url, {
      method: e.flow.method as 'GET', headers, dispatcher: agent, signal: AbortSignal.timeout(timeoutMs), ...(body ? { body } : {}),
    });
    let size = 0;
    for await (const chunk of res.body) size += (chunk as Buffer).length;
    const sent = body ? ` with its ${body.length}-byte body` : '';
    return { ok: true, text: `replayed ${e.flow.method} ${e.flow.url}${sent}: ${res.statusCode} (${size} bytes)${note ? `; sent WITHOUT a body: ${note}` : ''}` };
  } catch (err) {
    return { ok: false, text: `replay failed: ${err instanceof Error ? err.message : String(err)}` };
  } finally {
    await agent.close().catch(() => undefined);
  }
}
