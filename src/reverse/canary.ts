import { hash32 } from '../balance/hash.js';
import type { Random } from '../core/clock.js';

export interface CanarySpec {
  /** The pool that gets the share. */
  readonly pool: string;
  /** Percent of requests, 0-100 (fractions allowed: 0.5 = one in two hundred). */
  readonly percent: number;
  /** A stable per-client key (cookie, header or IP) makes the split sticky: a user does not flap between versions. */
  readonly stickyKey?: string;
  /** Request header whose value `always` forces the canary and `never` the primary pool. */
  readonly overrideHeader: string;
}

export interface CanaryInput {
  /** The override header's value, if sent. */
  readonly override: string | undefined;
  /** The sticky key's value for this request, if the spec has one and the request carries it. */
  readonly key: string | undefined;
  readonly random: Random;
}

/** Pure: whether this request goes to the canary pool, and why. */
export function canaryDecision(spec: CanarySpec, input: CanaryInput): { canary: boolean; why: string } {
  const override = input.override?.trim().toLowerCase();
  if (override === 'always') return { canary: true, why: `${spec.overrideHeader}: always` };
  if (override === 'never') return { canary: false, why: `${spec.overrideHeader}: never` };
  const slot = input.key === undefined ? input.random() * 10_000 : hash32(input.key, 0x2545f491) % 10_000;
  const canary = slot < spec.percent * 100;
  const how = input.key === undefined ? 'random' : 'sticky';
  return { canary, why: `canary ${spec.percent}% (${how} slot ${Math.floor(slot)}/10000) → ${canary ? spec.pool : 'primary'}` };
}
