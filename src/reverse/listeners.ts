import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, type Server, type ServerOptions } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from 'node:https';
import { createSecureContext, type SecureContext, type Server as TlsServer } from 'node:tls';
import { formatAuthority } from '../forward/target.js';
import type { ListenSpec, ListenTls } from './listen-schema.js';
import { certificateNames, SniTable } from './sni.js';

export interface Listener {
  readonly server: Server;
  readonly spec: ListenSpec;
  /** Its certificates, for HTTPS listeners. */
  readonly tls: ListenerTls | undefined;
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

/** One listener's certificates, loaded: the default one and the SNI table. */
interface LoadedCerts { readonly first: Pem; readonly fallback: SecureContext; readonly table: SniTable<SecureContext> }

async function loadCerts(tls: ListenTls): Promise<LoadedCerts> {
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
  return { first: pems[0] as Pem, fallback: fallback as SecureContext, table };
}

/**
 * The HTTPS side of a listener: options for https.createServer (default certificate, SNICallback over the current
 * table, HTTP/1.1 by ALPN) and `reload`, which reads the certificate files again and returns the swap to apply.
 */
export class ListenerTls {
  private constructor(private certs: LoadedCerts, private readonly tls: ListenTls) {}

  static async load(tls: ListenTls): Promise<ListenerTls> {
    return new ListenerTls(await loadCerts(tls), tls);
  }

  options(): HttpsOptions {
    return {
      cert: this.certs.first.cert, key: this.certs.first.key, minVersion: this.tls.minVersion, ALPNProtocols: ['http/1.1'],
      handshakeTimeout: this.tls.handshakeTimeoutMs,
      SNICallback: (servername, cb) => cb(null, this.certs.table.lookup(servername) ?? this.certs.fallback),
    };
  }

  /** Loads `next`'s files (throws naming the bad file, changing nothing); the returned function swaps them in. */
  async reload(next: ListenTls, server: Server): Promise<() => void> {
    const certs = await loadCerts(next);
    return () => {
      this.certs = certs;
      (server as unknown as TlsServer).setSecureContext({ cert: certs.first.cert, key: certs.first.key, minVersion: this.tls.minVersion });
    };
  }
}

/** One listening server per `listen` entry (plain HTTP or HTTPS), all with the same front-door options. */
export async function startListeners(specs: readonly ListenSpec[], options: ServerOptions, setup: (server: Server) => void): Promise<Listener[]> {
  const prepared = await Promise.all(specs.map(async (spec) => ({ spec, tls: spec.tls === undefined ? undefined : await ListenerTls.load(spec.tls) })));
  const out: Listener[] = [];
  try {
    for (const { spec, tls } of prepared) {
      const server: Server = tls === undefined ? createServer(options) : createHttpsServer({ ...options, ...tls.options() }) as unknown as Server;
      setup(server);
      server.listen(spec.port, spec.host);
      await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => { throw err; })]);
      const addr = server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : spec.port;
      out.push({ server, tls, spec, port, url: `${tls === undefined ? 'http' : 'https'}://${formatAuthority(spec.host, port)}` });
    }
  } catch (err) {
    for (const l of out) l.server.close();
    throw err;
  }
  return out;
}

/**
 * A reload's certificates: each HTTPS listener whose `listen` entry (same position, address and port) is still HTTPS
 * reads its files again. Throws on a bad file before anything changes; the returned function applies them all.
 */
export async function reloadCertificates(listeners: readonly Listener[], next: readonly ListenSpec[]): Promise<() => void> {
  const swaps: Array<() => void> = [];
  for (const [i, l] of listeners.entries()) {
    const spec = next[i];
    if (l.tls === undefined || spec?.tls === undefined || spec.host !== l.spec.host || spec.port !== l.spec.port) continue;
    swaps.push(await l.tls.reload(spec.tls, l.server));
  }
  return () => { for (const swap of swaps) swap(); };
}
