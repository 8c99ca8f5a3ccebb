/**
 * Bench settings from the environment: BENCH_QUICK=1 (smoke run), BENCH_ONLY=plain,mitm,connect,certs,policy,cache,
 * workers,logging,l4,reverse, BENCH_CLIENT=auto|wrk|autocannon (the reverse scenario's load client; auto: wrk when
 * installed, as ../shared/bench drives its peers, else autocannon).
 */
export const SCENARIOS = ['plain', 'mitm', 'connect', 'certs', 'policy', 'cache', 'workers', 'logging', 'l4', 'reverse'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchOptions {
  readonly quick: boolean;
  readonly only: ReadonlySet<ScenarioName>;
  /** Measured rounds per row (each round runs every row once, alternating). */
  readonly rounds: number;
  /** Seconds per measured load run. */
  readonly durationSec: number;
  /** Seconds of the unmeasured warm-up run per row. */
  readonly warmupSec: number;
  readonly connections: number;
  /** New hosts per certs phase. */
  readonly newHosts: number;
  /** The reverse scenario's load client. */
  readonly client: LoadClientChoice;
}

export const LOAD_CLIENTS = ['auto', 'wrk', 'autocannon'] as const;
export type LoadClientChoice = (typeof LOAD_CLIENTS)[number];

function isLoadClient(s: string): s is LoadClientChoice {
  return (LOAD_CLIENTS as readonly string[]).includes(s);
}

function isScenario(s: string): s is ScenarioName {
  return (SCENARIOS as readonly string[]).includes(s);
}

export function readOptions(env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const quick = env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true';
  const requested = (env.BENCH_ONLY ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = requested.filter((s) => !isScenario(s));
  if (unknown.length > 0) throw new Error(`BENCH_ONLY: unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.join(', ')}`);
  const client = env.BENCH_CLIENT?.trim() || 'auto';
  if (!isLoadClient(client)) throw new Error(`BENCH_CLIENT: unknown client ${client}; known: ${LOAD_CLIENTS.join(', ')}`);
  const only = new Set<ScenarioName>(requested.length > 0 ? requested.filter(isScenario) : SCENARIOS);
  return {
    quick, only,
    rounds: quick ? 1 : 3,
    durationSec: quick ? 3 : 10,
    warmupSec: quick ? 1 : 2,
    connections: 50,
    newHosts: quick ? 50 : 200,
    client,
  };
}
