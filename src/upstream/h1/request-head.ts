import { invalidRequest, type H1Error } from './errors.js';

/** How the request body goes on the wire: none, as many bytes as Content-Length says, or chunked. */
export type BodyFraming = { kind: 'none' } | { kind: 'length'; bytes: number } | { kind: 'chunked' };

export interface RequestHeadInput {
  readonly method: string;
  /** origin-form target (`/path?query`), or absolute-form for a proxy. */
  readonly path: string;
  /** Flat name, value list as dispatch.ts builds it (Host first); hop-by-hop fields are already gone. */
  readonly headers: readonly string[];
  readonly hasBody: boolean;
  /** Ask the server to close after this response (keep-alive disabled). */
  readonly close: boolean;
}

/** RFC 9110 §5.6.2 token characters: method and field names. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Field values: visible characters, space, tab and obs-text; never CR, LF or NUL (response splitting). */
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/** Methods whose requests carry content by definition (RFC 9110 §8.6: a length is expected even when it is 0). */
const EXPECTS_CONTENT = new Set(['POST', 'PUT', 'PATCH']);
/** A request target has no whitespace or controls. */
const BAD_TARGET = /[^\x21-\x7e\x80-\xff]/;

/**
 * The request line and header section, ready for one write, with the body framing it promises. Fails (undici's
 * UND_ERR_INVALID_ARG) on anything that would let a value end the line early: the fields came from a client, and
 * a CR or LF in them must never become a second request on a shared upstream connection.
 */
export function requestHead(input: RequestHeadInput): { head: string; framing: BodyFraming } | H1Error {
  if (!TOKEN.test(input.method)) return invalidRequest(`invalid method "${input.method}"`);
  if (input.path.length === 0 || BAD_TARGET.test(input.path)) return invalidRequest('invalid request target');
  let head = `${input.method} ${input.path} HTTP/1.1\r\n`;
  let framing: BodyFraming = { kind: 'none' };
  const h = input.headers;
  for (let i = 0; i + 1 < h.length; i += 2) {
    const name = h[i] as string;
    const value = h[i + 1] as string;
    if (!TOKEN.test(name)) return invalidRequest(`invalid header name "${name}"`);
    if (BAD_VALUE.test(value)) return invalidRequest(`invalid value for header "${name}"`);
    if (name.length === 14 && name.toLowerCase() === 'content-length') {
      if (!input.hasBody) continue;
      const bytes = Number(value);
      if (!/^\d+$/.test(value) || !Number.isSafeInteger(bytes)) return invalidRequest(`invalid content-length "${value}"`);
      framing = { kind: 'length', bytes };
    }
    head += `${name}: ${value}\r\n`;
  }
  if (input.hasBody && framing.kind === 'none') {
    framing = { kind: 'chunked' };
    head += 'transfer-encoding: chunked\r\n';
  } else if (!input.hasBody && EXPECTS_CONTENT.has(input.method)) {
    head += 'content-length: 0\r\n'; // as node and undici do: nginx answers a POST without a length with 411
  }
  if (input.close) head += 'connection: close\r\n';
  return { head: `${head}\r\n`, framing };
}
