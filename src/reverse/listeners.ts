import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from 'node:https';
import { createSecureContext, type SecureContext, type Server as TlsServer } from 'node:tls';
import type { Logger } from 'pino';
import { formatAuthority } from '../forward/target.js';
import type { ListenSpec, ListenTls } from './listen-schema.js';
import { planListeners, type ListenerPlan } from './listener-plan.js';
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

/** How often a retiring listener closes the keep-alive connections that went idle since (their requests finished). */
const IDLE_SWEEP_MS = 100;

/** What a reload will do to the listeners, bound and ready; nothing is closed until `commit`. */
export interface ListenerChange {
  readonly added: readonly Listener[];
  readonly removed: readonly Listener[];
  /** Servers that replaced one on the same address (HTTP ↔ HTTPS, TLS options). */
  readonly rebound: readonly Listener[];
  /** Swaps the certificates and the listener list in; removed and replaced servers retire gracefully. */
  commit(): void;
}

interface Retiring { readonly server: Server; readonly closed: Promise<void> }

/**
 * The reverse proxy's listening servers, one per `listen` entry (plain HTTP or HTTPS), all set up alike. A reload
 * binds new addresses before anything closes and refuses as a whole when one cannot be bound; listeners it removes
 * stop accepting at once and their in-flight requests get the shutdown grace.
 */
export class ListenerSet {
  private live: Listener[] = [];
  private readonly retiring = new Set<Retiring>();

  private constructor(private readonly options: ServerOptions, private readonly setup: (server: Server) => void, private readonly log: Logger) {}

  static async start(specs: readonly ListenSpec[], options: ServerOptions, setup: (server: Server) => void, log: Logger): Promise<ListenerSet> {
    const set = new ListenerSet(options, setup, log);
    const tls = await Promise.all(specs.map((spec) => (spec.tls === undefined ? undefined : ListenerTls.load(spec.tls))));
    try {
      for (const [j, spec] of specs.entries()) set.live.push(await set.bind(spec, tls[j]));
    } catch (err) {
      set.discard(set.live);
      throw err;
    }
    return set;
  }

  get current(): readonly Listener[] {
    return this.live;
  }

  /**
   * Loads certificates and binds what `next` adds or changes. Throws, with everything as it was, when a certificate
   * file is bad or an address cannot be bound (`cannot listen on https://127.0.0.1:8443: … EADDRINUSE …`).
   */
  async prepare(next: readonly ListenSpec[], graceMs: number): Promise<ListenerChange> {
    const plan = planListeners(this.live.map((l) => l.spec), next);
    const fresh = [...plan.add, ...plan.rebind.map(([, j]) => j)];
    const tls = new Map(await Promise.all(fresh.map(async (j) => {
      const spec = next[j]?.tls;
      return [j, spec === undefined ? undefined : await ListenerTls.load(spec)] as const;
    })));
    const swaps = await Promise.all(plan.keep.map(([i, j]) => {
      const l = this.live[i] as Listener;
      const spec = next[j] as ListenSpec;
      return l.tls !== undefined && spec.tls !== undefined ? l.tls.reload(spec.tls, l.server) : undefined;
    }));
    const result: Listener[] = [];
    for (const [i, j] of plan.keep) result[j] = this.live[i] as Listener;
    const added: Listener[] = [];
    try {
      for (const j of plan.add) added.push(result[j] = await this.bind(next[j] as ListenSpec, tls.get(j)));
    } catch (err) {
      this.discard(added);
      throw err;
    }
    const { rebound, stopped } = await this.rebind(plan.rebind, next, tls, result, added, graceMs);
    const removed = plan.remove.map((i) => this.live[i] as Listener);
    return {
      added, removed, rebound,
      commit: () => {
        for (const swap of swaps) swap?.();
        this.live = result;
        for (const l of removed) this.retire(this.stop(l.server), graceMs);
        for (const r of stopped) this.retire(r, graceMs);
        for (const l of [...added, ...rebound]) this.log.info({ listener: l.url }, 'listening (reload)');
        for (const l of removed) this.log.info({ listener: l.url, graceMs }, 'listener removed (reload); its in-flight requests finish');
      },
    };
  }

  /** Same address, new server: the old one stops accepting first (one port, one socket). On a failure all is undone. */
  private async rebind(pairs: ListenerPlan['rebind'], next: readonly ListenSpec[], tls: ReadonlyMap<number, ListenerTls | undefined>,
    result: Listener[], added: readonly Listener[], graceMs: number): Promise<{ rebound: Listener[]; stopped: Retiring[] }> {
    const rebound: Listener[] = [];
    const stopped: Array<{ old: Listener; index: number; r: Retiring }> = [];
    try {
      for (const [i, j] of pairs) {
        const old = this.live[i] as Listener;
        const spec = next[j] as ListenSpec;
        stopped.push({ old, index: i, r: this.stop(old.server) });
        rebound.push(result[j] = await this.bind(spec, tls.get(j), spec.port === 0 ? old.port : spec.port));
      }
    } catch (err) {
      this.discard([...added, ...rebound]);
      const lost: string[] = [];
      for (const { old, index, r } of stopped) {
        this.retire(r, graceMs);
        // The old server cannot listen again once closed; an identical one takes its place.
        try { this.live[index] = await this.bind(old.spec, old.tls, old.port); } catch (e) { lost.push(`${old.url} (${(e as Error).message})`); }
      }
      if (lost.length > 0) throw new Error(`${(err as Error).message}; and these listeners could not be bound again: ${lost.join(', ')}`);
      throw err;
    }
    return { rebound, stopped: stopped.map((s) => s.r) };
  }

  /** A server for `spec` on `port` (the spec's, or the port a `:0` listener already had when it is bound again). */
  private async bind(spec: ListenSpec, tls: ListenerTls | undefined, port = spec.port): Promise<Listener> {
    const server: Server = tls === undefined ? createServer(this.options) : createHttpsServer({ ...this.options, ...tls.options() }) as unknown as Server;
    this.setup(server);
    const url = (p: number): string => `${tls === undefined ? 'http' : 'https'}://${formatAuthority(spec.host, p)}`;
    try {
      // Both listeners go once either fires: a later server error must not reject a forgotten promise.
      await new Promise<void>((resolve, reject) => {
        const failed = (err: Error): void => { server.off('listening', listening); reject(err); };
        const listening = (): void => { server.off('error', failed); resolve(); };
        server.once('error', failed).once('listening', listening).listen(port, spec.host);
      });
    } catch (err) {
      server.close();
      throw new Error(`cannot listen on ${url(port)}: ${(err as Error).message}`);
    }
    const addr = server.address();
    const bound = typeof addr === 'object' && addr !== null ? addr.port : port;
    // Accept failures (EMFILE…) are the server's 'error' events: logged, never an uncaught exception.
    server.on('error', (err: Error) => this.log.error({ listener: url(bound), err: err.message }, 'listener error'));
    return { server, tls, spec, port: bound, url: url(bound) };
  }

  /** Servers bound by a reload that is refused: nothing was meant to reach them yet. */
  private discard(listeners: readonly Listener[]): void {
    for (const l of listeners) {
      l.server.close();
      l.server.closeAllConnections();
    }
  }

  /** No new connections; idle keep-alive ones closed; later requests on the open ones are told `Connection: close`. */
  private stop(server: Server): Retiring {
    server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => { res.shouldKeepAlive = false; });
    const r: Retiring = { server, closed: new Promise<void>((resolve) => server.close(() => resolve())) };
    server.closeIdleConnections();
    return r;
  }

  /** In-flight requests finish within `graceMs`; connections that go idle are closed as they do; then all of them. */
  private retire(r: Retiring, graceMs: number): void {
    this.retiring.add(r);
    const sweep = setInterval(() => r.server.closeIdleConnections(), IDLE_SWEEP_MS).unref();
    const force = setTimeout(() => r.server.closeAllConnections(), graceMs).unref();
    void r.closed.then(() => {
      clearInterval(sweep);
      clearTimeout(force);
      this.retiring.delete(r);
    });
  }

  /**
   * Shutdown: every listener but the first (which the caller's shutdown closes) stops accepting now; the returned
   * function ends their connections, and those of listeners still retiring from a reload, and waits for them.
   */
  beginClose(): { first: Server; closeOthers: () => Promise<void> } {
    const [first, ...others] = this.live as [Listener, ...Listener[]];
    const stopped = others.map((l) => this.stop(l.server));
    return {
      first: first.server,
      closeOthers: async () => {
        const all = [...stopped, ...this.retiring];
        for (const r of all) r.server.closeAllConnections();
        await Promise.all(all.map((r) => r.closed));
      },
    };
  }
}
