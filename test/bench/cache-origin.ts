/**
 * Origin for the cache bench: /cached-1k (Cache-Control: max-age=3600, ETag) and /nostore-1k (no-store), keep-alive.
 * Prints `origin listening on PORT`; answers { type: 'count' } over IPC with how many requests reached it.
 */
import { createServer } from 'node:http';

const body = Buffer.alloc(1024, 'c');
let requests = 0;
const server = createServer((req, res) => {
  requests++;
  const cacheControl = req.url === '/cached-1k' ? 'max-age=3600' : req.url === '/nostore-1k' ? 'no-store' : undefined;
  if (!cacheControl) return void res.writeHead(404, { 'content-length': 0 }).end();
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length, 'cache-control': cacheControl, etag: '"c1"' }).end(body);
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  console.log(`origin listening on ${addr.port}`);
});
process.on('message', (msg: unknown) => {
  if (typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === 'count') process.send?.({ type: 'count', requests });
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
