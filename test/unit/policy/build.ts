import { buildPolicy, type PolicyOptions } from '../../../src/policy/compile.js';
import { parseList } from '../../../src/policy/list-parse.js';
import type { Policy, PolicyRequest } from '../../../src/policy/model.js';
import { parseRulesFile } from '../../../src/policy/rules-file.js';

export const baseOptions: PolicyOptions = { defaultAction: 'allow', reportOnly: false, timeZone: 'UTC', groups: {} };

/** A policy from in-memory text: one rules file and lists by category name. */
export function policyFrom(yaml: string, lists: Record<string, string> = {}, options: Partial<PolicyOptions> = {}): Policy {
  return buildPolicy({
    ruleFiles: [{ file: 'rules/policy.yaml', parsed: parseRulesFile(yaml, 'rules/policy.yaml') }],
    lists: Object.entries(lists).map(([category, text]) => {
      const file = `rules/lists/${category}.txt`;
      return { category, file, parsed: parseList(text, file) };
    }),
  }, { ...baseOptions, ...options });
}

/** 2024-06-05 is a Wednesday. */
export const WED_10_UTC = Date.UTC(2024, 5, 5, 10, 0);

export function req(url: string, extra: Partial<PolicyRequest> = {}): PolicyRequest {
  const u = new URL(url);
  return {
    host: u.hostname, port: Number(u.port) || (u.protocol === 'https:' ? 443 : 80), method: 'GET', url: u.href,
    path: u.pathname, query: u.search, clientIp: '10.0.0.5', at: WED_10_UTC, ...extra,
  };
}
