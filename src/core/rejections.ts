/**
 * Why a front door refused a connection or a request before it became a flow. A closed vocabulary, so the metric
 * `portico_rejected_total{reason}` has a bounded number of series.
 */
export type RejectReason =
  | 'content-length-and-transfer-encoding'
  | 'bad-content-length'
  | 'bad-transfer-encoding'
  | 'obs-fold'
  | 'bad-header'
  | 'bad-chunk'
  | 'bad-request-line'
  | 'duplicate-host'
  | 'malformed'
  | 'header-too-large'
  | 'too-many-headers'
  | 'uri-too-long'
  | 'request-timeout'
  | 'max-connections'
  | 'max-connections-per-client'
  | 'max-tunnels'
  | 'max-tunnels-per-client';

export type RejectStatus = 400 | 408 | 414 | 431 | 503;

export interface Rejection { readonly status: RejectStatus; readonly reason: RejectReason }

export const REASON_PHRASE: Readonly<Record<RejectStatus, string>> = {
  400: 'Bad Request', 408: 'Request Timeout', 414: 'URI Too Long', 431: 'Request Header Fields Too Large', 503: 'Service Unavailable',
};

/** Counts rejections by reason; read when /metrics is scraped. One instance per front door (no module state). */
export class RejectionCounter {
  private readonly counts = new Map<RejectReason, number>();

  count(reason: RejectReason): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
  }

  get(reason: RejectReason): number {
    return this.counts.get(reason) ?? 0;
  }

  snapshot(): ReadonlyMap<RejectReason, number> {
    return new Map(this.counts);
  }
}

/** A complete close-delimited HTTP/1.1 answer for a raw socket (the request never reached a handler). */
export function rejectionResponse(r: Rejection, extraHeaders: readonly string[] = []): string {
  const body = `${r.status} ${REASON_PHRASE[r.status]}: ${r.reason}\n`;
  return [
    `HTTP/1.1 ${r.status} ${REASON_PHRASE[r.status]}`, 'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`, `X-Portico-Rejected: ${r.reason}`, 'Connection: close', ...extraHeaders,
  ].join('\r\n') + `\r\n\r\n${body}`;
}
