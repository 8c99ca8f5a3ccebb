import { hash32 } from './hash.js';
import { eligible, type BackendView, type PickContext, type Picker } from './picker.js';

/** The opaque cookie value naming a backend (HAProxy `cookie SRV insert` uses the server name; we do not leak addresses). */
export function stickyToken(backendId: string, salt = ''): string {
  return hash32(`${salt}${backendId}`).toString(16).padStart(8, '0') + hash32(backendId, 0x5bd1e995).toString(16).padStart(8, '0');
}

export interface StickyPick {
  readonly backend: BackendView | undefined;
  /** The cookie value to set when the client has none or its backend is gone; undefined when the client's still fits. */
  readonly setToken: string | undefined;
}

/**
 * Sticky sessions by an inserted cookie: a token that names an eligible backend keeps the client there; a missing,
 * unknown or stale token (backend removed, down or excluded on retry) falls back to the inner picker and a new token.
 */
export class StickyPicker {
  private readonly tokens = new Map<string, string>();

  constructor(private readonly inner: Picker, private readonly salt = '') {}

  tokenOf(id: string): string {
    let t = this.tokens.get(id);
    if (t === undefined) {
      t = stickyToken(id, this.salt);
      this.tokens.set(id, t);
    }
    return t;
  }

  pick(backends: readonly BackendView[], token: string | undefined, ctx: PickContext): StickyPick {
    if (token !== undefined) {
      for (const b of backends) {
        if (this.tokenOf(b.id) !== token) continue;
        if (eligible(b, ctx)) {
          ctx.explain?.(`sticky: ${b.id} (cookie)`);
          return { backend: b, setToken: undefined };
        }
        break;
      }
    }
    const backend = this.inner.pick(backends, ctx);
    return { backend, setToken: backend === undefined ? undefined : this.tokenOf(backend.id) };
  }
}
