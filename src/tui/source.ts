import type { EventBus, Subscription } from '../core/events.js';
import type { TuiEvent } from './store.js';

export type Sink = (event: TuiEvent) => void;

/** Where flows come from: the running mode's bus, or a remote instance's admin endpoint. One interface for both. */
export interface FlowSource {
  /** Shown in the header: "in-process" or the admin URL. */
  readonly label: string;
  start(sink: Sink): void;
  /** "live", "connecting", "reconnecting in 2s: ECONNREFUSED"… */
  status(): string;
  /** GET /upstreams (remote only); the in-process source learns pools from backend.health events. */
  upstreams?(): Promise<unknown>;
  close(): void;
}

/**
 * Subscribes to the in-process EventBus. The bus already bounds the subscriber's queue and counts drops;
 * each delivery forwards any new drops as a `dropped` event, so the header shows them.
 */
export function busSource(bus: EventBus, buffer = 10_000, label = 'in-process'): FlowSource {
  let sub: Subscription | undefined;
  let reported = 0;
  return {
    label,
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
