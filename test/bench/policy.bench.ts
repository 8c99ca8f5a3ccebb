/**
 * Policy scale check (issue 3): load 200 000 list domains (< 2 s target) and measure the median decision time with
 * them loaded (< 5 µs target). A plain script, no proxy and no sockets:
 *   node --import tsx test/bench/policy.bench.ts [DOMAINS]
 * Prints the figures; targets are reported, never asserted in unit tests.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom, type Random } from '../../src/core/clock.js';
import { decide } from '../../src/policy/decide.js';
import { loadPolicy } from '../../src/policy/load.js';
import type { PolicyRequest } from '../../src/policy/model.js';

const TOTAL = Number(process.argv[2] ?? 200_000);
const BATCH = 1000;
const BATCHES = 500;

const RULES = `
groups:
  staff: { clients: [10.1.0.0/16], users: [alice, bob] }
  interns: { clients: [10.2.0.0/16] }
rules:
  - { id: intranet, action: allow, host: .corp.example }
  - { id: updates, action: bypass-cache, host: ["*.update.example", "dl.*.example"] }
  - { id: banks, action: no-mitm, host: ["*.bank.example", "*.pay.example"] }
  - { id: lists, action: block, category: [ads, trackers, malware] }
  - { id: social-lunch, action: allow, host: ["*.social.example", "**.video.*"], group: staff, time: "weekdays 12:00-13:00" }
  - { id: social, action: block, host: ["*.social.example", "**.video.*"] }
  - { id: uploads, action: block, method: [POST, PUT], path: "/upload/**", group: interns }
  - { id: tracking, action: anonymize strict, query: [utm_*, fbclid, gclid] }
  - { id: exe, action: block, content-type: application/x-msdownload }
`;

function word(random: Random, min: number, max: number): string {
  const n = min + Math.floor(random() * (max - min + 1));
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(97 + Math.floor(random() * 26));
  return s;
}

function domains(random: Random, n: number): string[] {
  const tlds = ['com', 'net', 'org', 'io', 'co.uk', 'de'];
  return Array.from({ length: n }, () => `${random() < 0.3 ? `${word(random, 2, 6)}.` : ''}${word(random, 5, 12)}.${tlds[Math.floor(random() * tlds.length)]}`);
}

async function writeRules(dir: string, random: Random): Promise<string[]> {
  const all = domains(random, TOTAL);
  const third = Math.floor(TOTAL / 3);
  await mkdir(join(dir, 'lists'), { recursive: true });
  await writeFile(join(dir, 'policy.yaml'), RULES);
  await writeFile(join(dir, 'lists', 'ads.txt'), all.slice(0, third).map((d) => `0.0.0.0 ${d}`).join('\n'));
  await writeFile(join(dir, 'lists', 'trackers.txt'), all.slice(third, 2 * third).join('\n'));
  await writeFile(join(dir, 'lists', 'malware.txt'), ['[Adblock Plus 2.0]', ...all.slice(2 * third).map((d) => `||${d}^`)].join('\n'));
  return all;
}

/** 10% listed hosts (often as subdomains), the rest random names a few labels deep. */
function requests(random: Random, listed: readonly string[], n: number): PolicyRequest[] {
  const at = Date.UTC(2024, 5, 5, 12, 30);
  return Array.from({ length: n }, () => {
    const hit = random() < 0.1;
    const base = hit ? listed[Math.floor(random() * listed.length)] as string : `${word(random, 3, 8)}.${word(random, 4, 10)}.com`;
    const host = random() < 0.5 ? `www.${base}` : base;
    const path = `/${word(random, 1, 8)}/${word(random, 1, 8)}`;
    const query = random() < 0.2 ? '?utm_source=x&id=1' : '';
    return { host, port: 443, method: random() < 0.9 ? 'GET' : 'POST', url: `https://${host}${path}${query}`, path, query, clientIp: `10.${1 + Math.floor(random() * 3)}.0.7`, at };
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function main(): Promise<void> {
  const random = seededRandom(42);
  const dir = await mkdtemp(join(tmpdir(), 'portico-policy-bench-'));
  try {
    const listed = await writeRules(dir, random);
    const t0 = performance.now();
    const { policy } = await loadPolicy(dir, { defaultAction: 'allow', reportOnly: false, timeZone: 'Europe/Berlin', groups: {} });
    const loadMs = performance.now() - t0;
    const size = [...policy.categories.values()].reduce((n, c) => n + c.size, 0);
    const reqs = requests(random, listed, BATCH * 10);
    let blocked = 0;
    for (const r of reqs) if (decide(r, policy).action === 'block') blocked++; // warm-up
    const perDecision: number[] = [];
    for (let b = 0; b < BATCHES; b++) {
      const slice = reqs.slice((b % 10) * BATCH, (b % 10 + 1) * BATCH);
      const s = performance.now();
      for (const r of slice) decide(r, policy);
      perDecision.push(((performance.now() - s) * 1000) / BATCH);
    }
    const med = median(perDecision);
    console.log(`policy: ${size} list domains in ${policy.categories.size} categories, ${policy.rules.length} rules`);
    console.log(`load:     ${loadMs.toFixed(0)} ms (target < 2000 ms) ${loadMs < 2000 ? 'OK' : 'OVER'}`);
    console.log(`decision: median ${med.toFixed(2)} µs, p90 ${[...perDecision].sort((a, c) => a - c)[Math.floor(BATCHES * 0.9)]?.toFixed(2)} µs (target < 5 µs) ${med < 5 ? 'OK' : 'OVER'}`);
    console.log(`          ${blocked} of ${reqs.length} sample requests blocked`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
