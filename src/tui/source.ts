import type { EventBus, Subscription } from '../core/events.js';
import type { TuiEvent } from './store.js';

export type Sink = (event: TuiEvent) => void;

export interface Gauges { inFlight: number; tunnels: number }

export interface BusSourceOptions {
  /** The subscriber's queue bound (events beyond it are dropped and counted). */
  buffer?: number;
  label?: string;
  gauges?: () => Gauges;
}

/** Where flows come from: the running mode's bus, or a remote instance's admin endpoint. One interface for both. */
export interface FlowSource {
  /** Shown in the header: "in-process" or the admin URL. */
  readonly label: string;
  start(sink: Sink): void;
  /** "live", "connecting", "reconnecting in 2s: ECONNREFUSED"… */
  status(): string;
  /** Live gauges of the running mode (in-process only): exchanges in progress and open tunnels, blind ones included. */
  gauges?(): Gauges;
  /** GET /upstreams (remote only); the in-process source learns pools from backend.health events. */
  upstreams?(): Promise<unknown>;
  close(): void;
}

/**
 * Subscribes to the in-process EventBus. The bus already bounds the subscriber's queue and counts drops;
 * each delivery forwards any new drops as a `dropped` event, so the header shows them.
 */
export function busSource(bus: EventBus, opts: BusSourceOptions = {}): FlowSource {
  let sub: Subscription | undefined;
  let reported = 0;
  const buffer = opts.buffer ?? 10_000;
  return {
    label: opts.label ?? 'in-process',
    ...(opts.gauges ? { gauges: opts.gauges } : {}),
    start(sink) {
      sub = bus.subscribe((event) => {
        const lost = sub?.dropped() ?? 0;
        if (lost > reported) {
          sink({ type: 'dropped', dropped: lost - reported });
          reported = lost;
        }
        sink(event);
      }, { buffer });
    },
    status: () => 'live',
    close() {
      sub?.close();
      sub = undefined;
    },
  };
}
