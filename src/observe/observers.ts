import type { Logger } from 'pino';
import type { AdminConfig, LogConfig } from '../config/schema.js';
import type { EventBus, Subscription } from '../core/events.js';
import { startAccessLog, type AccessLog } from './access-log/index.js';
import { startAdmin, type AdminProviders, type AdminServer } from './admin.js';
import { Metrics } from './metrics.js';
import { FlowRing } from './ring.js';

export interface ObserverProviders extends AdminProviders {
  /** Exchanges in progress and open tunnels, read when /metrics is scraped. */
  inFlight?(): number | undefined;
  openTunnels?(): number | undefined;
  /** Front-door refusals by reason (portico_rejected_total). */
  rejections?(): ReadonlyMap<string, number> | undefined;
  /** Where "-" writes (1 = stdout); the TUI passes a file instead, never fd 1. */
  readonly stdoutFd?: number;
  readonly log?: Logger;
}

export interface Observers {
  readonly accessLog: AccessLog | undefined;
  readonly admin: AdminServer | undefined;
  readonly ring: FlowRing | undefined;
  readonly metrics: Metrics | undefined;
  /** Stop observing, flush the access log (SIGTERM), close the admin endpoint. */
  close(): Promise<void>;
}

const VERBOSE = new Set(['info', 'debug', 'trace']);
const LOOPBACK = /^(?:127\.|::1$|localhost$)/;

/**
 * Wires every observer of a mode to its bus: the access log (when the level logs info and a destination is set) and,
 * with `admin.listen`, the ring, the metrics and the admin endpoint. Any mode (forward, reverse, L4) calls this.
 * Nothing subscribes when nothing is enabled, so the bus stays idle and no FlowRecord is built per request.
 */
export async function startObservers(
  bus: EventBus, config: { log: LogConfig; admin: AdminConfig }, providers: ObserverProviders,
): Promise<Observers> {
  const accessLog = VERBOSE.has(config.log.level)
    ? await startAccessLog(bus, config.log, {
      ...(providers.stdoutFd !== undefined ? { stdoutFd: providers.stdoutFd } : {}),
      onSinkFailure: (target, err) => providers.log?.warn({ destination: target, err: err.message },
        'access log destination failed; its lines are dropped from now on, proxying continues'),
    })
    : undefined;
  let admin: AdminServer | undefined;
  let ring: FlowRing | undefined;
  let metrics: Metrics | undefined;
  let sub: Subscription | undefined;
  const listen = config.admin.listen;
  if (listen) {
    const r = new FlowRing(config.log.ringFlows);
    const dropped = (): number => (accessLog?.subscription.dropped() ?? 0) + (sub?.dropped() ?? 0) + (admin?.dropped() ?? 0);
    const m = new Metrics({
      ...(providers.inFlight ? { inFlight: providers.inFlight } : {}),
      ...(providers.openTunnels ? { openTunnels: providers.openTunnels } : {}),
      ...(providers.rejections ? { rejections: providers.rejections } : {}),
      droppedEvents: dropped,
    });
    sub = bus.subscribe((event) => {
      if (event.type === 'flow.end') r.push(event.flow);
      m.observe(event);
    });
    try {
      admin = await startAdmin(bus, r, m, providers, { ...listen, token: config.admin.token, sseQueueEvents: config.admin.sseQueueEvents });
    } catch (err) {
      sub.close();
      await accessLog?.close();
      throw new Error(`admin endpoint on ${listen.host}:${listen.port}: ${err instanceof Error ? err.message : String(err)}`);
    }
    ring = r;
    metrics = m;
    providers.log?.info({ url: admin.url, token: config.admin.token !== undefined }, 'admin endpoint listening');
    if (!LOOPBACK.test(listen.host) && config.admin.token === undefined) {
      providers.log?.warn({ url: admin.url }, 'admin endpoint reachable beyond loopback without a token (set admin.token)');
    }
  }
  return {
    accessLog, admin, ring, metrics,
    close: async () => {
      sub?.close();
      await admin?.close();
      await accessLog?.close();
    },
  };
}
