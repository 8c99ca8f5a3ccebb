import type { Flow } from '../core/flow.js';
import { CONTINUE, type Stage } from '../core/stage.js';
import { normaliseHost } from '../policy/host.js';
import type { Profile } from '../policy/model.js';
import {
  anonymizeRequestHeaders, anonymizeResponseHeaders, stripTrackingParams, trackingParamMatcher, type AnonymizeOptions,
} from './anonymize-headers.js';
import type { PolicySource } from './policy.js';

export interface AnonymizeConfig extends Omit<AnonymizeOptions, 'pseudonym'> {
  readonly profile: Profile;
  readonly trackerCategories: readonly string[];
}

/** The profile for this flow: an `anonymize PROFILE` rule's choice, else the configured default. */
function profileOf(flow: Flow, fallback: Profile): Profile {
  return flow.notes.policy?.profile ?? fallback;
}

/** The first tracker category (rules/lists/NAME) the host is in, from the policy in force. */
function trackerOf(host: string, source: PolicySource | undefined, names: readonly string[]): string | undefined {
  if (!source || names.length === 0) return undefined;
  const hits = source.current().index.lookup(normaliseHost(host));
  for (const name of names) if (hits.has(name)) return name;
  return undefined;
}

/**
 * Strips or rewrites what identifies the client (issue 3 profiles strict | standard | off) after the policy decided
 * and before the cache and the origin see the request; every change is recorded in flow.notes.anonymized.
 */
export function anonymizeStage(cfg: AnonymizeConfig, deps: { pseudonym: string; policy?: PolicySource }): Stage {
  const isTracking = trackingParamMatcher(cfg.trackingParams);
  const opts: AnonymizeOptions = { userAgent: cfg.userAgent, trackingParams: cfg.trackingParams, forwarded: cfg.forwarded, pseudonym: deps.pseudonym };
  const record = (flow: Flow, changes: readonly string[]): void => {
    if (changes.length > 0) (flow.notes.anonymized ??= []).push(...changes);
  };
  return {
    name: 'anonymize',
    onRequest(flow) {
      const profile = profileOf(flow, cfg.profile);
      const req = flow.request;
      const tracker = profile === 'strict' ? trackerOf(req.url.hostname, deps.policy, cfg.trackerCategories) : undefined;
      const result = anonymizeRequestHeaders({ headers: req.headers, url: req.url, clientIp: flow.client.ip, tracker }, profile, opts);
      req.headers = result.headers;
      record(flow, result.changes);
      if (profile === 'strict') record(flow, stripTrackingParams(req.url, isTracking).map((p) => `removed query parameter ${p}`));
      return CONTINUE;
    },
    onResponse(flow) {
      const profile = profileOf(flow, cfg.profile);
      if (profile !== 'strict' || !flow.response) return;
      const tracker = trackerOf(flow.request.url.hostname, deps.policy, cfg.trackerCategories);
      const result = anonymizeResponseHeaders(flow.response.headers, profile, tracker);
      flow.response.headers = result.headers;
      record(flow, result.changes);
    },
  };
}
