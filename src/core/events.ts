import type { FlowRecord } from './flow.js';

export type HealthState = 'up' | 'down' | 'ejected' | 'draining';

/**
 * The closed vocabulary of events. Invariants: every HTTP exchange ends in exactly one `flow.end`; every CONNECT
 * tunnel (blind or intercepted) ends in exactly one `tunnel.end`, whose requests (when intercepted) are flows too.
 */
export type ProxyEvent =
  | { type: 'flow.end'; flow: FlowRecord }
  | {
      type: 'tunnel.end'; id: string; client: string; target: string; bytesIn: number; bytesOut: number;
      intercepted: boolean; durationMs: number; error?: string;
    }
  | { type: 'backend.health'; pool: string; backend: string; state: HealthState; reason: string }
  | { type: 'config.reload'; ok: boolean; error?: string };

export type ProxyEventType = ProxyEvent['type'];

export interface Subscription {
  /** Events dropped because this subscriber's buffer was full. */
  dropped(): number;
  close(): void;
}

export interface EventBus {
  /** Never throws, never blocks the proxy: events are queued per subscriber and delivered asynchronously. */
  emit(event: ProxyEvent): void;
  subscribe(fn: (event: ProxyEvent) => void, opts?: { buffer?: number }): Subscription;
  /** True when nobody listens, so producers can skip building events (fastify's null hook lists). */
  readonly idle: boolean;
}

const DEFAULT_BUFFER = 10_000;

class Subscriber implements Subscription {
  private queue: ProxyEvent[] = [];
  private lost = 0;
  private scheduled = false;
  closed = false;

  constructor(
    private readonly fn: (event: ProxyEvent) => void,
    private readonly capacity: number,
    private readonly onError: (err: unknown) => void,
    private readonly onClose: (s: Subscriber) => void,
  ) {}

  push(event: ProxyEvent): void {
    if (this.closed) return;
    if (this.queue.length >= this.capacity) {
      this.lost++;
      return;
    }
    this.queue.push(event);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  private drain(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    for (const event of batch) {
      if (this.closed) return;
      try {
        this.fn(event);
      } catch (err) {
        this.onError(err); // an observer's bug never reaches the data path (mitmproxy safecall)
      }
    }
  }

  dropped(): number {
    return this.lost;
  }

  close(): void {
    this.closed = true;
    this.queue = [];
    this.onClose(this);
  }
}

export function createEventBus(onSubscriberError: (err: unknown) => void = () => {}): EventBus {
  const subscribers = new Set<Subscriber>();
  return {
    emit(event) {
      for (const s of subscribers) s.push(event);
    },
    subscribe(fn, opts) {
      const s = new Subscriber(fn, opts?.buffer ?? DEFAULT_BUFFER, onSubscriberError, (x) => subscribers.delete(x));
      subscribers.add(s);
      return s;
    },
    get idle() {
      return subscribers.size === 0;
    },
  };
}
