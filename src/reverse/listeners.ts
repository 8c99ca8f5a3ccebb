import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, type Server, type ServerOptions } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from 'node:https';
import { createSecureContext, type SecureContext } from 'node:tls';
import { formatAuthority } from '../forward/target.js';
import type { ListenSpec, ListenTls } from './listen-schema.js';
import { certificateNames, SniTable } from './sni.js';

export interface Listener {
  readonly server: Server;
  readonly tls: boolean;
  readonly port: number;
  /** http(s)://HOST:PORT as it listens (the real port when 0 was asked). */
  readonly url: string;
}

interface Pem { readonly cert: string; readonly key: string; readonly names: string[] }

async function readPem(entry: { cert: string; key: string; names?: string[] | undefined }): Promise<Pem> {
  const [cert, key] = await Promise.all([readFile(entry.cert, 'utf8'), readFile(entry.key, 'utf8')]);
  let names: string[];
  try {
    names = entry.names ?? certificateNames(cert);
  } catch (err) {
    throw new Error(`tls: ${entry.cert} is not a PEM certificate (${(err as Error).message})`);
  }
  return { cert, key, names };
}

/** The HTTPS options of a listener: the default certificate, an SNI table of the others, HTTP/1.1 by ALPN. */
export async function tlsOptions(tls: ListenTls): Promise<HttpsOptions> {
  const entries = [...(tls.cert !== undefined && tls.key !== undefined ? [{ cert: tls.cert, key: tls.key }] : []), ...tls.certificates];
  const pems = await Promise.all(entries.map(readPem));
  const table = new SniTable<SecureContext>();
  let fallback: SecureContext | undefined;
  for (const [i, pem] of pems.entries()) {
    let ctx: SecureContext;
    try {
      ctx = createSecureContext({ cert: pem.cert, key: pem.key, minVersion: tls.minVersion });
    } catch (err) {
      throw new Error(`tls: ${entries[i]?.cert ?? ''} / ${entries[i]?.key ?? ''}: ${(err as Error).message}`);
    }
    fallback ??= ctx;
    table.add(pem.names, ctx);
  }
  const first = pems[0] as Pem;
  return {
    cert: first.cert, key: first.key, minVersion: tls.minVersion, ALPNProtocols: ['http/1.1'],
    handshakeTimeout: tls.handshakeTimeoutMs,
    SNICallback: (servername, cb) => cb(null, table.lookup(servername) ?? fallback),
  };
}

/** One listening server per `listen` entry (plain HTTP or HTTPS), all with the same front-door options. */
export async function startListeners(specs: readonly ListenSpec[], options: ServerOptions, setup: (server: Server) => void): Promise<Listener[]> {
  const prepared = await Promise.all(specs.map(async (spec) => ({ spec, tls: spec.tls === undefined ? undefined : await tlsOptions(spec.tls) })));
  const out: Listener[] = [];
  try {
    for (const { spec, tls } of prepared) {
      const server: Server = tls === undefined ? createServer(options) : createHttpsServer({ ...options, ...tls }) as unknown as Server;
      setup(server);
      server.listen(spec.port, spec.host);
      await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => { throw err; })]);
      const addr = server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : spec.port;
      out.push({ server, tls: tls !== undefined, port, url: `${tls === undefined ? 'http' : 'https'}://${formatAuthority(spec.host, port)}` });
    }
  } catch (err) {
    for (const l of out) l.server.close();
    throw err;
  }
  return out;
}
