import net from 'node:net';
import type { Probe } from '../health/probe.js';

/** Bytes of a check answer kept while looking for `expect`. */
const MAX_ANSWER = 4096;

/**
 * The L4 health check: a TCP connect, or with `expect` a send/expect exchange (HAProxy `tcp-check send` /
 * `tcp-check expect string`). Plugs into health/active.ts as its probe; resolves, never rejects.
 */
export function tcpExpectProbe(send: string | undefined, expect: string | undefined): Probe {
  return (target, _spec, signal) => new Promise((resolve) => {
    const socket = net.connect({ host: target.host, port: target.port, signal });
    let answer = '';
    const done = (ok: boolean, detail: string): void => {
      socket.destroy();
      resolve({ ok, detail });
    };
    socket.once('connect', () => {
      if (send !== undefined) socket.write(send);
      if (expect === undefined) done(true, 'TCP connect');
    });
    socket.on('data', (d: Buffer) => {
      answer = (answer + d.toString('latin1')).slice(-MAX_ANSWER);
      if (expect !== undefined && answer.includes(expect)) done(true, `got "${expect}"`);
    });
    socket.once('end', () => done(false, `closed before "${expect ?? ''}"`));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      done(false, signal.aborted ? (answer === '' ? 'check timed out' : `no "${expect ?? ''}" in time`) : `TCP ${err.code ?? err.message}`);
    });
  });
}
