import { primaryKey } from './key.js';
import { hostScopes, urlScopes, type CacheStore, type PurgeScope } from './store.js';

/** What a purge removes: exact keys (counted when present) and key prefixes. */
export interface PurgePlan { keys: string[]; scopes: PurgeScope[]; what: string }
export interface PurgeTarget { url?: string | undefined; host?: string | undefined; all?: boolean | undefined }

/** Pure: the plan for one URL (with its Vary variants), one host (both schemes, any port) or everything; or an error. */
export function purgePlan(target: PurgeTarget): PurgePlan | string {
  const given = [target.url !== undefined, target.host !== undefined, target.all === true].filter(Boolean).length;
  if (given !== 1) return 'give exactly one of URL, --host HOST or --all';
  if (target.all) return { keys: [], scopes: [{ kind: 'all' }], what: 'every entry' };
  if (target.host !== undefined) return { keys: [], scopes: hostScopes(target.host), what: `every entry of ${target.host}` };
  let parsed: URL;
  try {
    parsed = new URL(target.url as string);
  } catch {
    return `not an absolute URL: ${target.url}`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `not an http(s) URL: ${target.url}`;
  const scopes = urlScopes(primaryKey(parsed));
  return { keys: [scopes.key], scopes: [scopes.variants], what: primaryKey(parsed) };
}

/**
 * Carries out a plan on a store; resolves with how many stored keys went. The prefixes go before the exact keys: a
 * Redis delete also unlinks the entry's body chunks, which the prefix scan would otherwise no longer find and count.
 */
export async function runPurge(store: CacheStore, plan: PurgePlan): Promise<number> {
  let n = 0;
  for (const key of plan.keys) if ((await store.get(key)) !== undefined) n++;
  for (const scope of plan.scopes) n += await store.purge(scope);
  for (const key of plan.keys) await store.delete(key);
  return n;
}
