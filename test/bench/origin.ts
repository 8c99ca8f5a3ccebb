/**
 * The bench origin: a node:http (or node:https with --cert/--key) server on 127.0.0.1:0 serving /1k and /100k
 * with keep-alive. Prints `origin listening on PORT` when ready. Counts the requests it answers; the parent asks
 * for the count over IPC ({ type: 'count' } → { type: 'count', requests }), so counting adds no request.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { cert: { type: 'string' }, key: { type: 'string' } } });

const bodies = new Map<string, Buffer>([
  ['/1k', Buffer.alloc(1024, 'a')],
  ['/100k', Buffer.alloc(100 * 1024, 'b')],
]);
let requests = 0;

function handle(req: IncomingMessage, res: ServerResponse): void {
  requests++;
  const body = bodies.get(req.url ?? '');
  if (!body) {
    res.writeHead(404, { 'content-type': 'text/plain', 'content-length': 10 }).end('not found\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
}

const server: Server = values.cert && values.key
  ? createHttpsServer({ cert: readFileSync(values.cert), key: readFileSync(values.key) }, handle)
  : createHttpServer(handle);
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  console.log(`origin listening on ${addr.port}`);
});

process.on('message', (msg: unknown) => {
  if (typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === 'count') {
    process.send?.({ type: 'count', requests });
  }
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
