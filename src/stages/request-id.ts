import type { Flow } from '../core/flow.js';
import { getHeader, setHeader } from '../core/headers.js';
import { CONTINUE, type Stage } from '../core/stage.js';

/** What an incoming request id may look like: visible ASCII without spaces or commas, at most 128 characters. */
const VALID = /^[\x21-\x2b\x2d-\x7e]{1,128}$/;

export interface RequestIdOptions {
  /** The header carrying the id through the chain (X-Request-Id by default). */
  readonly header: string;
  /** Whether this flow's request gets the flow's own id when it carries none (or an unusable one). */
  readonly add: (flow: Flow) => boolean;
}

/**
 * Pure: the request id a request carries, when it is usable (a malformed or oversized value is not trusted as one).
 */
export function incomingRequestId(value: string | undefined): string | undefined {
  return value !== undefined && VALID.test(value) ? value : undefined;
}

/**
 * Follows one request through the chain: a request that arrives with an id keeps it; one without gets this flow's id
 * (when `add` says so). Either way the id lands in `notes.requestId`, on every flow event of every hop.
 */
export function requestIdStage(o: RequestIdOptions): Stage {
  return {
    name: 'request-id',
    onRequest(flow) {
      const seen = incomingRequestId(getHeader(flow.request.headers, o.header));
      if (seen !== undefined) {
        flow.notes.requestId = seen;
      } else if (o.add(flow)) {
        flow.request.headers = setHeader(flow.request.headers, o.header, flow.id);
        flow.notes.requestId = flow.id;
      }
      return CONTINUE;
    },
  };
}
