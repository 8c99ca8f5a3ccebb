import type { FlowRecord, Notes } from './flow.js';

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
      /** A blind tunnel's CONNECT-time block decision (enforced: the refusal's; reportOnly: it passed anyway). */
      policy?: Notes['policy'];
    }
  | { type: 'backend.health'; pool: string; backend: string; state: HealthState; reason: string }
  | { type: 'config.reload'; ok: boolean; error?: string };

export type ProxyEventType = ProxyEvent['type'];

export interface Subscription {
  /** Events dropped because this subscriber's buffer was full. */
  dropped(): number;
  /** Delivers the events already queued, then stops. */
  close(): void;
}

export interface SubscribeOptions {
  /** Events queued for this subscriber before new ones are dropped (and counted). */
  buffer?: number;
  /** Only these event types (default: all). Producers skip building the others when nobody else wants them. */
  types?: readonly ProxyEventType[];
}

export interface EventBus {
  /** Never throws, never blocks the proxy: events are queued per subscriber and delivered asynchronously. */
  emit(event: ProxyEvent): void;
  subscribe(fn: (event: ProxyEvent) => void, opts?: SubscribeOptions): Subscription;
  /** True when nobody listens, so producers can skip building events (fastify's null hook lists). */
  readonly idle: boolean;
  /**
   * True when some subscriber takes this type: a reverse proxy whose CLI only logs backend.health builds no
   * FlowRecord per request (toRecord and the queue were ~3% of its CPU per request).
   */
  wants(type: ProxyEventType): boolean;
}

const DEFAULT_BUFFER = 10_000;
/** Every type once; a Record so that a new event type does not compile until it is listed here. */
const TYPES: Record<ProxyEventType, true> = { 'flow.end': true, 'tunnel.end': true, 'backend.health': true, 'config.reload': true };
const ALL_TYPES = Object.keys(TYPES) as ProxyEventType[];

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
    /** undefined = every type. */
    readonly types: ReadonlySet<ProxyEventType> | undefined,
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

  /**
   * Delivers what is already queued, then stops. A shutdown closes the access log's subscription right after the
   * last requests end, often within the same turn as their flow.end: dropping the queue lost those lines.
   */
  close(): void {
    if (this.closed) return;
    if (this.queue.length > 0) this.drain();
    this.closed = true;
    this.queue = [];
    this.onClose(this);
  }
}

export function createEventBus(onSubscriberError: (err: unknown) => void = () => {}): EventBus {
  const subscribers = new Set<Subscriber>();
  /** Subscribers per event type, counting the all-types ones under every type. */
  const wanted = new Map<ProxyEventType, number>();
  const count = (s: Subscriber, delta: number): void => {
    for (const type of s.types ?? ALL_TYPES) wanted.set(type, (wanted.get(type) ?? 0) + delta);
  };
  return {
    emit(event) {
      for (const s of subscribers) if (s.types === undefined || s.types.has(event.type)) s.push(event);
    },
    subscribe(fn, opts) {
      const types = opts?.types === undefined ? undefined : new Set(opts.types);
      const s = new Subscriber(fn, opts?.buffer ?? DEFAULT_BUFFER, onSubscriberError, (x) => {
        if (subscribers.delete(x)) count(x, -1);
      }, types);
      subscribers.add(s);
      count(s, 1);
      return s;
    },
    get idle() {
      return subscribers.size === 0;
    },
    wants(type) {
      return (wanted.get(type) ?? 0) > 0;
    },
  };
}
