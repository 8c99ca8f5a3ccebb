import type { BackendView } from '../balance/picker.js';
import { parseAddress } from '../upstream/backend.js';

/** One L4 backend: the live view the shared pickers read (mutable here, read-only to them). */
export class L4Backend implements BackendView {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  weight: number;
  available = true;
  /** Connections (TCP) or sessions (UDP) open to it now. */
  active = 0;
  /** Pre-connected sockets ready for a client, and pre-connects in flight (warm.ts). */
  warm = 0;
  warming = 0;
  readonly ewmaMs = 0;
  /** Connections since the start, and failed connect attempts. */
  total = 0;
  failures = 0;

  constructor(address: string, readonly configuredWeight: number) {
    this.id = address;
    ({ host: this.host, port: this.port } = parseAddress(address));
    this.weight = configuredWeight;
  }
}
