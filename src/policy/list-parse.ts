import { isIP } from 'node:net';
import { PolicyError } from './errors.js';
import { isDomainName, normaliseHost } from './host.js';
import type { ListEntry } from './category.js';

/** The list formats, as detected and as named in `policy.listFormats`. */
export const LIST_FORMATS = ['domains', 'hosts', 'adblock'] as const;
export type ListFormat = typeof LIST_FORMATS[number];

export interface ParsedList {
  readonly format: ListFormat;
  readonly entries: ListEntry[];
  /** Adblock `@@||x^` exceptions: carve hosts out of the same category. */
  readonly exceptions: ListEntry[];
  /** Lines of other syntax (Adblock cosmetic/URL rules, hosts-file aliases for localhost…), skipped and counted. */
  readonly skipped: number;
}

/** How many meaningful lines format detection looks at. */
const DETECT_LINES = 50;
const HOSTS_LINE = /^\S+\s+\S/;
/** Names hosts files map for the machine itself (StevenBlack's header); never blocked. */
const LOCAL_NAMES = new Set(['localhost', 'localhost.localdomain', 'local', 'broadcasthost', 'ip6-localhost',
  'ip6-loopback', 'ip6-localnet', 'ip6-mcastprefix', 'ip6-allnodes', 'ip6-allrouters', 'ip6-allhosts', '0.0.0.0']);
const ADBLOCK_DOMAIN = /^(@@)?\|\|([^/^$|*]+)\^\|?$/;

/** Looks at the first meaningful lines: Adblock markers win, then `IP name` lines, else a plain domain list. */
export function detectFormat(lines: readonly string[]): ListFormat {
  let seen = 0;
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('[Adblock') || line.startsWith('!') || line.startsWith('||') || line.startsWith('@@')) return 'adblock';
    const first = line.split(/\s+/, 1)[0] as string;
    if (HOSTS_LINE.test(line) && isIP(first.replace(/%.*$/, '')) !== 0) return 'hosts';
    if (++seen >= DETECT_LINES) break;
  }
  return 'domains';
}

/** Parses one list file; a malformed line of a plain domain list is an error naming file:line. */
export function parseList(text: string, file: string, format?: ListFormat): ParsedList {
  const lines = text.split(/\r?\n/);
  const fmt = format ?? detectFormat(lines);
  const out = { format: fmt, entries: [] as ListEntry[], exceptions: [] as ListEntry[], skipped: 0 };
  const parseLine = fmt === 'adblock' ? adblockLine : fmt === 'hosts' ? hostsLine : domainLine;
  for (let i = 0; i < lines.length; i++) parseLine((lines[i] as string).trim(), file, i + 1, out);
  return out;
}

type Sink = { entries: ListEntry[]; exceptions: ListEntry[]; skipped: number };

function stripComment(line: string): string {
  const hash = line.indexOf('#');
  return (hash < 0 ? line : line.slice(0, hash)).trim();
}

function domainLine(raw: string, file: string, line: number, out: Sink): void {
  const text = stripComment(raw);
  if (text === '') return;
  const domain = normaliseHost(text.replace(/^\*?\./, ''));
  if (!isDomainName(domain)) throw new PolicyError(file, line, `not a domain name: "${text.slice(0, 80)}"`);
  out.entries.push({ domain, file, line });
}

function hostsLine(raw: string, file: string, line: number, out: Sink): void {
  const text = stripComment(raw);
  if (text === '') return;
  const names = text.split(/\s+/).slice(1);
  for (const name of names) {
    const domain = normaliseHost(name);
    if (LOCAL_NAMES.has(domain) || isIP(domain) !== 0 || !isDomainName(domain)) out.skipped++;
    else out.entries.push({ domain, file, line });
  }
}

function adblockLine(text: string, file: string, line: number, out: Sink): void {
  if (text === '' || text.startsWith('!') || text.startsWith('[')) return;
  const m = ADBLOCK_DOMAIN.exec(text);
  const domain = m ? normaliseHost(m[2] as string) : '';
  if (!m || !isDomainName(domain)) {
    out.skipped++;
    return;
  }
  (m[1] ? out.exceptions : out.entries).push({ domain, file, line });
}
