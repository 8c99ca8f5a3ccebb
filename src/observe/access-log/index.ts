import type { EventBus, Subscription } from '../../core/events.js';
import { LineBatch } from './batch.js';
import { openSink, type LineSink, type RotateOptions, type SinkFailure } from './destinations.js';
import { formatter } from './format.js';
import type { LogFormat } from './types.js';

export interface AccessLogConfig {
  readonly format: LogFormat;
  /** "-" = stdout, other entries = rotated files; empty = no access log. */
  readonly accessLog: readonly string[];
  readonly rotate: RotateOptions;
}

export interface AccessLog {
  readonly subscription: Subscription;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The access log: a bus subscriber that formats each flow.end / tunnel.end once and writes the line to every
 * destination. Formatting happens here, off the data path; a slow disk makes the bus drop (and count), never wait.
 * The lines of one event-loop turn go to each destination as one write (batch.ts).
 */
export async function startAccessLog(
  bus: EventBus, config: AccessLogConfig, opts: { stdoutFd?: number; now?: () => number; onSinkFailure?: SinkFailure } = {},
): Promise<AccessLog | undefined> {
  if (config.accessLog.length === 0) return undefined;
  const sinks: LineSink[] = [];
  for (const target of new Set(config.accessLog)) sinks.push(await openSink(target, config.rotate, opts.stdoutFd, opts.onSinkFailure));
  const format = formatter(config.format);
  const now = opts.now ?? Date.now;
  const batch = new LineBatch((data) => {
    const bytes = Buffer.from(data, 'utf8'); // once for every destination
    for (const sink of sinks) sink.write(bytes);
  });
  const subscription = bus.subscribe((event) => {
    const line = format(event, now());
    if (line !== undefined) batch.add(line);
  });
  return {
    subscription,
    flush: async () => {
      batch.flush();
      await Promise.all(sinks.map((s) => s.flush()));
    },
    close: async () => {
      subscription.close();
      batch.flush();
      await Promise.all(sinks.map((s) => s.close()));
    },
  };
}

export type { LogFormat } from './types.js';
