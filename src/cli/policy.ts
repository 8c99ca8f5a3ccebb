import { Command } from 'commander';
import type { ForwardConfig } from '../config/schema.js';
import { systemClock, type Clock } from '../core/clock.js';
import { policyOptions } from '../policy/compile.js';
import { decide } from '../policy/decide.js';
import { loadPolicy, type LoadedPolicy } from '../policy/load.js';
import type { Decision, PolicyRequest } from '../policy/model.js';
import { loadForwardConfig } from './forward.js';

/** Where the command writes; injectable so tests capture output and the exit code (as cli/ca.ts does). */
export interface PolicyCommandIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  setExitCode(code: number): void;
  clock: Clock;
}

const processIo: PolicyCommandIo = {
  stdout: process.stdout, stderr: process.stderr, clock: systemClock,
  setExitCode: (code) => {
    process.exitCode = code;
  },
};

interface CommonFlags { rules?: string; config?: string }
interface TestFlags extends CommonFlags { client: string; user?: string; at?: string }

/** `portico policy test URL` and `portico policy check`: try the rules folder without a browser or a running proxy. */
export function policyCommand(io: PolicyCommandIo = processIo): Command {
  const cmd = new Command('policy').description('check the content policy (rules folder) without running the proxy');
  cmd.addCommand(common(new Command('test'))
    .description('print the decision for a URL: action, rule (file:line), category and why')
    .argument('<url>', 'absolute http(s) URL')
    .option('--client <ip>', 'client address (for group rules)', '127.0.0.1')
    .option('--user <name>', 'proxy-auth user (for user and group rules)')
    .option('--at <iso-time>', 'decision time (for time windows), e.g. 2024-06-05T12:30:00+02:00')
    .action(guarded(io, 'test', (url: string, flags: TestFlags) => runTest(url, flags, io))));
  cmd.addCommand(common(new Command('check'))
    .description('load every rules file and list; exit 1 naming file:line on the first broken one')
    .action(guarded(io, 'check', (flags: CommonFlags) => runCheck(flags, io))));
  return cmd.configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) });
}

function common(cmd: Command): Command {
  return cmd.option('--rules <dir>', 'policy folder (default: policy.rules of the config, ./rules)')
    .option('-c, --config <file>', 'YAML config file (time zone, groups, default action, list formats)');
}

async function load(flags: CommonFlags): Promise<{ config: ForwardConfig; loaded: LoadedPolicy }> {
  const config = loadForwardConfig({ ...(flags.config ? { config: flags.config } : {}), ...(flags.rules ? { rules: flags.rules } : {}) });
  const loaded = await loadPolicy(config.policy.rules, policyOptions(config.policy));
  return { config, loaded };
}

async function runTest(raw: string, flags: TestFlags, io: PolicyCommandIo): Promise<void> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`not an absolute URL: ${raw}`);
  }
  const at = flags.at === undefined ? io.clock.now() : Date.parse(flags.at);
  if (Number.isNaN(at)) throw new Error(`--at: not an ISO time: ${flags.at ?? ''}`);
  const { loaded } = await load(flags);
  const req: PolicyRequest = {
    host: url.hostname, port: Number(url.port) || (url.protocol === 'https:' ? 443 : 80), method: 'GET', url: url.href,
    path: url.pathname, query: url.search, clientIp: flags.client, at, ...(flags.user !== undefined ? { user: flags.user } : {}),
  };
  io.stdout.write(formatDecision(decide(req, loaded.policy)));
}

export function formatDecision(d: Decision): string {
  const lines = [
    `action:   ${d.action}${d.profile ? ` ${d.profile}` : ''}${d.reportOnly && d.action === 'block' ? ' (report-only: logged, not enforced)' : ''}`,
    `rule:     ${d.ruleId}${d.file !== undefined ? ` (${d.file}:${d.line ?? 0})` : ''}`,
  ];
  if (d.category) lines.push(`category: ${d.category.category} (${d.category.domain} at ${d.category.file}:${d.category.line})`);
  lines.push(`why:      ${d.explain()}`, '');
  return lines.join('\n');
}

async function runCheck(flags: CommonFlags, io: PolicyCommandIo): Promise<void> {
  const { config, loaded } = await load(flags);
  const { policy } = loaded;
  for (const note of loaded.notes) io.stdout.write(`note: ${note}\n`);
  const domains = [...policy.categories.values()].reduce((n, c) => n + c.size, 0);
  io.stdout.write(`ok: ${config.policy.rules}: ${policy.rules.length} rules, ${policy.categories.size} categories` +
    ` (${[...policy.categories.keys()].join(', ') || 'none'}; ${domains} domains), default ${policy.defaultAction}\n`);
}

/** A broken file or bad argument: one line on stderr (file:line first) and exit code 1. */
function guarded<A extends unknown[]>(io: PolicyCommandIo, name: string, action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args) => {
    try {
      await action(...args);
    } catch (err) {
      io.stderr.write(`portico policy ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
      io.setExitCode(1);
    }
  };
}
