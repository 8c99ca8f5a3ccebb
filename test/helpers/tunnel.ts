import { connect, type Socket } from 'node:net';

export interface Tunnel { status: number; head: string; socket: Socket }

/**
 * Sends `CONNECT target` to the proxy on a raw socket and reads the reply head (and, for errors, the body).
 * On 200 the socket is left open and clean for the caller's TLS or plain bytes.
 */
export function openTunnel(proxyPort: number, target: string, headers: Record<string, string> = {}): Promise<Tunnel> {
  return new Promise((resolve, reject) => {
    const socket = connect(proxyPort, '127.0.0.1');
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${extra}\r\n`);
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      if (status === 200) {
        socket.off('data', onData);
        const rest = buf.subarray(end + 4);
        if (rest.length > 0) socket.unshift(rest);
        resolve({ status, head, socket });
        return;
      }
      socket.off('data', onData);
      let text = buf.toString('latin1');
      socket.on('data', (c: Buffer) => { text += c.toString('latin1'); });
      socket.once('close', () => resolve({ status, head: text, socket }));
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}
