import { STATUS_CODES } from 'node:http';
import type { RawHeaders } from '../../core/flow.js';

/** How the body follows the head on the wire. */
export type ResponseFraming = 'none' | 'length' | 'chunked' | 'close';

export interface ResponseHeadInput {
  readonly status: number;
  readonly reason: string | undefined;
  readonly headers: RawHeaders;
  /** HEAD, 204, 304 (and 1xx): a head only, whatever the fields say. */
  readonly noBody: boolean;
  /** The body's length when it is known now (bytes in hand), undefined for a stream; 0 when there is none. */
  readonly bodyBytes: number | undefined;
  /** The client spoke HTTP/1.1 (chunked framing allowed). */
  readonly http11: boolean;
  /** The connection may carry another request after this one. */
  readonly keepAlive: boolean;
  /** For the `Keep-Alive: timeout=N` hint, as node:http sends it. */
  readonly keepAliveTimeoutMs: number;
  /** The current `Date` value (utcDate), added when the fields have none. */
  readonly date: string;
}

export interface ResponseHead {
  readonly head: string;
  readonly framing: ResponseFraming;
  /** Whether the connection stays open after this response (a close-delimited body forces it shut). */
  readonly keepAlive: boolean;
}

/** RFC 9110 §5.6.2 token characters (field names). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Field values: visible characters, space, tab and obs-text; never CR, LF or NUL (response splitting). */
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * Pure: the status line and header section a response goes out with, as node:http's ServerResponse would write
 * them for the same writeHead (so the two front doors answer alike): the fields in order, `Date` when missing,
 * the framing (`Content-Length` for bytes in hand, chunked for a stream to an HTTP/1.1 client, else a
 * close-delimited body) and `Connection` (with node's `Keep-Alive: timeout=N` hint). Returns an Error, as node's
 * writeHead throws one, for a field that cannot be written (a bad name or a CR/LF in a value).
 */
export function responseHead(input: ResponseHeadInput): ResponseHead | Error {
  const { status, headers } = input;
  let head = `HTTP/1.1 ${status} ${input.reason ?? STATUS_CODES[status] ?? 'unknown'}\r\n`;
  let hasDate = false;
  let hasLength = false;
  for (const [name, value] of headers) {
    if (!TOKEN.test(name)) return new Error(`invalid response header name "${name}"`);
    if (BAD_VALUE.test(value)) return new Error(`invalid character in response header "${name}"`);
    const n = name.length;
    if (n === 4 && name.toLowerCase() === 'date') hasDate = true;
    else if (n === 14 && name.toLowerCase() === 'content-length') hasLength = true;
    else if ((n === 10 && name.toLowerCase() === 'connection') || (n === 17 && name.toLowerCase() === 'transfer-encoding')) continue; // framing is ours
    head += `${name}: ${value}\r\n`;
  }
  if (!hasDate) head += `Date: ${input.date}\r\n`;
  let framing: ResponseFraming;
  let keepAlive = input.keepAlive;
  const bodyless = input.noBody || status === 204 || status === 304 || (status >= 100 && status < 200);
  if (bodyless) framing = 'none';
  else if (hasLength) framing = 'length';
  else if (input.bodyBytes !== undefined) {
    framing = 'length';
    head += `Content-Length: ${input.bodyBytes}\r\n`;
  } else if (input.http11) {
    framing = 'chunked';
    head += 'Transfer-Encoding: chunked\r\n';
  } else {
    framing = 'close';
    keepAlive = false;
  }
  if (keepAlive) {
    head += 'Connection: keep-alive\r\n';
    const seconds = Math.floor(input.keepAliveTimeoutMs / 1000);
    if (seconds > 0) head += `Keep-Alive: timeout=${seconds}\r\n`;
  } else {
    head += 'Connection: close\r\n';
  }
  return { head: `${head}\r\n`, framing, keepAlive };
}

let dateCache = '';
let dateSecond = -1;

/** The HTTP date of now, built at most once a second (node:http keeps the same cache). */
export function utcDate(nowMs: number): string {
  const second = Math.floor(nowMs / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateCache = new Date(second * 1000).toUTCString();
  }
  return dateCache;
}
