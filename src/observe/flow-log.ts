import type { Logger } from 'pino';
import type { EventBus, Subscription } from '../core/events.js';

/**
 * One log line per finished exchange and per tunnel, fed from the event bus (an observer: it can drop events under
 * overload but never slows the proxy). The logging issue replaces this with access-log formats.
 */
export function logFlows(bus: EventBus, log: Logger): Subscription | undefined {
  // Disabled means free: without a subscriber the bus stays idle and no FlowRecord is built per request.
  if (!log.isLevelEnabled('info')) return undefined;
  return bus.subscribe((event) => {
    switch (event.type) {
      case 'flow.end':
        log.info({ flow: event.flow }, 'flow');
        break;
      case 'tunnel.end':
        log.info({ tunnel: event }, 'tunnel');
        break;
      default:
        log.info({ event }, event.type);
    }
  });
}
