/** Starts origin.ts (plain or HTTPS) in its own process and reads its request counter over IPC. */
import { once } from 'node:events';
import { spawnReady, tsNode, type Proc } from './procs.js';

export interface Origin {
  readonly port: number;
  readonly proc: Proc;
  /** Requests the origin has answered so far. */
  count(): Promise<number>;
}

export async function startOrigin(tls?: { cert: string; key: string }): Promise<Origin> {
  const [cmd, args] = tsNode('origin.ts', tls ? ['--cert', tls.cert, '--key', tls.key] : []);
  const { proc, match } = await spawnReady(tls ? 'https-origin' : 'origin', cmd, args, { ready: /^origin listening on (\d+)$/, ipc: true });
  const child = proc.child;
  return {
    port: Number(match[1]),
    proc,
    count: async () => {
      const reply = once(child, 'message') as Promise<[{ type: string; requests: number }]>;
      child.send({ type: 'count' });
      const [msg] = await reply;
      return msg.requests;
    },
  };
}
