import { parseWorkersFlag } from '../cluster/config.js';
import type { PlainObject } from '../config/load.js';

/** The forward command's flags as commander parses them (all optional: absent flags keep file/default values). */
export interface ForwardFlags {
  config?: string;
  listen?: string;
  mitm?: boolean;
  mitmBypass?: string;
  connectPorts?: string;
  allowTarget?: string;
  allowClient?: string;
  upstreamProxy?: string;
  upstreamCa?: string;
  insecureUpstream?: boolean;
  authFile?: string;
  certs?: string;
  logLevel?: string;
  shutdownGrace?: string;
  rules?: string;
  policyReportOnly?: boolean;
  anonymize?: string;
  /** `--cache STORE` gives a string, `--no-cache` false. */
  cache?: string | boolean;
  cacheMaxObject?: string;
  cacheMaxMemory?: string;
  admin?: string;
  adminToken?: string;
  logFormat?: string;
  accessLog?: string;
  logHeaders?: boolean;
  logBodies?: string;
  maxConnections?: string;
  maxConnectionsPerClient?: string;
  /** `--workers N|auto` → cluster.workers. */
  workers?: string;
  /** Run the TUI in-process (not a config key: it changes where logs go, see cli/tui.ts). */
  tui?: boolean;
}

const list = (s: string | undefined): string[] | undefined =>
  s === undefined ? undefined : s.split(',').map((x) => x.trim()).filter(Boolean);

/** Flags → the same shape as the YAML file, so one schema validates both (every flag has a config key). */
export function flagsToConfig(f: ForwardFlags): PlainObject {
  const out: PlainObject = {};
  if (f.listen !== undefined) out.listen = f.listen;
  if (f.certs !== undefined) out.certs = f.certs;
  const mitm: PlainObject = {};
  if (f.mitm !== undefined) mitm.enabled = f.mitm;
  if (f.mitmBypass !== undefined) mitm.bypass = list(f.mitmBypass);
  if (Object.keys(mitm).length > 0) out.mitm = mitm;
  if (f.connectPorts !== undefined) out.connectPorts = list(f.connectPorts)?.map(Number);
  if (f.allowTarget !== undefined) out.targets = { allow: list(f.allowTarget) };
  const access: PlainObject = {};
  if (f.allowClient !== undefined) access.allowClients = list(f.allowClient);
  if (f.authFile !== undefined) access.authFile = f.authFile;
  if (Object.keys(access).length > 0) out.access = access;
  const upstream: PlainObject = {};
  if (f.upstreamProxy !== undefined) upstream.proxy = f.upstreamProxy;
  if (f.upstreamCa !== undefined) upstream.ca = f.upstreamCa;
  if (f.insecureUpstream !== undefined) upstream.insecure = f.insecureUpstream;
  if (Object.keys(upstream).length > 0) out.upstream = upstream;
  const log = logFlags(f);
  if (log) out.log = log;
  const admin: PlainObject = {};
  if (f.admin !== undefined) admin.listen = f.admin;
  if (f.adminToken !== undefined) admin.token = f.adminToken;
  if (Object.keys(admin).length > 0) out.admin = admin;
  if (f.shutdownGrace !== undefined) out.shutdown = { graceMs: Number(f.shutdownGrace) };
  const policy: PlainObject = {};
  if (f.rules !== undefined) policy.rules = f.rules;
  if (f.policyReportOnly !== undefined) policy.reportOnly = f.policyReportOnly;
  if (Object.keys(policy).length > 0) out.policy = policy;
  if (f.anonymize !== undefined) out.anonymize = { profile: f.anonymize };
  const cache = cacheFlags(f);
  if (cache) out.cache = cache;
  if (f.workers !== undefined) out.cluster = { workers: parseWorkersFlag(f.workers) };
  const server = connectionFlags(f);
  if (server) out.server = server;
  return out;
}

/** --max-connections / --max-connections-per-client → server.* (shared with the reverse command). */
export function connectionFlags(f: { maxConnections?: string; maxConnectionsPerClient?: string }): PlainObject | undefined {
  const server: PlainObject = {};
  if (f.maxConnections !== undefined) server.maxConnections = Number(f.maxConnections);
  if (f.maxConnectionsPerClient !== undefined) server.maxConnectionsPerClient = Number(f.maxConnectionsPerClient);
  return Object.keys(server).length > 0 ? server : undefined;
}

/** --cache STORE | --no-cache, --cache-max-object BYTES, --cache-max-memory BYTES → the `cache` section. */
function cacheFlags(f: ForwardFlags): PlainObject | undefined {
  const cache: PlainObject = {};
  if (f.cache === false) cache.store = 'off';
  else if (typeof f.cache === 'string') cache.store = f.cache;
  if (f.cacheMaxObject !== undefined) cache.maxObjectBytes = Number(f.cacheMaxObject);
  if (f.cacheMaxMemory !== undefined) cache.maxMemoryBytes = Number(f.cacheMaxMemory);
  return Object.keys(cache).length > 0 ? cache : undefined;
}

/** --log-level, --log-format, --access-log FILE|-[,…], --log-headers → the `log` section. */
function logFlags(f: ForwardFlags): PlainObject | undefined {
  const log: PlainObject = {};
  if (f.logLevel !== undefined) log.level = f.logLevel;
  if (f.logFormat !== undefined) log.format = f.logFormat;
  if (f.accessLog !== undefined) log.accessLog = list(f.accessLog);
  if (f.logHeaders !== undefined) log.headers = f.logHeaders;
  if (f.logBodies !== undefined) log.bodies = Number(f.logBodies);
  return Object.keys(log).length > 0 ? log : undefined;
}

/** A YAML file may say `mitm: true` or `mitm: {enabled: true, bypass: [...]}`; flags merge into the object form. */
export function normalizeFileConfig(file: PlainObject): PlainObject {
  let out = file;
  if (typeof out.mitm === 'boolean') out = { ...out, mitm: { enabled: out.mitm } };
  if (typeof out.cache === 'boolean') out = { ...out, cache: out.cache ? {} : { store: 'off' } }; // `cache: false`
  return out;
}
