import type { FlowRecord } from '../core/flow.js';

/**
 * What a flow record holds of its request body. `bytesIn` counts every body byte the proxy read; `requestBody` is the
 * first `log.bodies` bytes of an uncompressed text body, decoded as UTF-8. Comparing the two tells a complete capture
 * from a truncated one (a body whose UTF-8 did not round-trip counts as truncated: what we have is not what was sent).
 */
export type RequestBodyCapture =
  | { kind: 'none' }
  | { kind: 'complete'; text: string; bytes: number }
  /** total is undefined when the byte counter disagrees with the capture (a record built without the front door). */
  | { kind: 'truncated'; text: string; captured: number; total: number | undefined }
  | { kind: 'not-captured'; total: number };

export function requestBodyCapture(r: Pick<FlowRecord, 'bytesIn' | 'requestBody'>): RequestBodyCapture {
  if (r.requestBody === undefined) return r.bytesIn > 0 ? { kind: 'not-captured', total: r.bytesIn } : { kind: 'none' };
  const captured = Buffer.byteLength(r.requestBody, 'utf8');
  if (captured === r.bytesIn) return { kind: 'complete', text: r.requestBody, bytes: captured };
  return { kind: 'truncated', text: r.requestBody, captured, total: r.bytesIn > captured ? r.bytesIn : undefined };
}

/** One sentence for a body that cannot be resent as it was; undefined when nothing is missing. */
export function missingBodyNote(c: RequestBodyCapture): string | undefined {
  if (c.kind === 'not-captured') {
    return `request body of ${c.total} bytes was not captured (log.bodies / --log-bodies is off, or the body is binary or compressed)`;
  }
  if (c.kind === 'truncated') {
    const of = c.total === undefined ? ' (its full size is unknown)' : ` of ${c.total}`;
    return `request body truncated: only the first ${c.captured}${of} bytes were captured (raise log.bodies / --log-bodies)`;
  }
  return undefined;
}
