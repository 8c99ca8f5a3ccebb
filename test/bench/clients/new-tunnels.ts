/**
 * First-CONNECT latency client for the certs scenario. For each host name: TCP connect to the proxy, `CONNECT
 * 127.0.0.1:ORIGIN`, then a TLS handshake inside the tunnel with SNI = that name, trusting the proxy's CA. Measures
 * socket connect → 200 reply and socket connect → secureConnect. With `direct`, the TLS handshake goes straight to
 * the origin (the reference: what a handshake costs without a proxy). `concurrency` names are opened at once per batch.
 * argv[2] is JSON (Args); prints `RESULT {"handshakeMs":[...],"connectReplyMs":[...],"errors":N}`.
 */
import { readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

interface Args { proxyPort: number; originPort: number; caFile: string; names: string[]; concurrency: number; direct?: boolean }
interface Sample { handshakeMs: number; connectReplyMs: number }

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const ca = readFileSync(args.caFile, 'utf8');

function readReply(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let head = '';
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.off('error', reject);
      socket.pause();
      if (end + 4 < head.length) socket.unshift(Buffer.from(head.slice(end + 4), 'latin1'));
      resolve(head.slice(0, end));
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

async function open(name: string): Promise<Sample> {
  const socket = netConnect({ host: '127.0.0.1', port: args.direct ? args.originPort : args.proxyPort });
  socket.setNoDelay(true);
  try {
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
    const t0 = performance.now();
    if (!args.direct) {
      socket.write(`CONNECT 127.0.0.1:${args.originPort} HTTP/1.1\r\nHost: 127.0.0.1:${args.originPort}\r\n\r\n`);
      const head = await readReply(socket);
      if (!/^HTTP\/1\.[01] 200/.test(head)) throw new Error(`CONNECT refused: ${head.split('\r\n')[0]}`);
    }
    const t1 = performance.now();
    const tls = tlsConnect({ socket, servername: name, ca, ALPNProtocols: ['http/1.1'] });
    await new Promise<void>((resolve, reject) => { tls.once('secureConnect', resolve); tls.once('error', reject); });
    const t2 = performance.now();
    tls.destroy();
    return { handshakeMs: t2 - t0, connectReplyMs: t1 - t0 };
  } finally {
    socket.destroy();
  }
}

console.log('START'); // the parent starts watching its event loop here
await new Promise((r) => setTimeout(r, 100)); // let it see the line before the first tunnel
const samples: Sample[] = [];
let errors = 0;
const errorSamples = new Set<string>();
for (let i = 0; i < args.names.length; i += args.concurrency) {
  const batch = args.names.slice(i, i + args.concurrency);
  const settled = await Promise.allSettled(batch.map(open));
  for (const s of settled) {
    if (s.status === 'fulfilled') samples.push(s.value);
    else {
      errors++;
      if (errorSamples.size < 3) errorSamples.add(String(s.reason));
    }
  }
}
for (const e of errorSamples) console.error(`error sample: ${e}`);
console.log(`RESULT ${JSON.stringify({ handshakeMs: samples.map((s) => s.handshakeMs), connectReplyMs: samples.map((s) => s.connectReplyMs), errors })}`);
