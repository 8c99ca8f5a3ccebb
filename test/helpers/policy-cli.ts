import { policyCommand, type PolicyCommandIo } from '../../src/cli/policy.js';

/** Runs `portico policy ARGS…` in-process at a fixed time (2024-06-05 10:00 UTC); what it printed and its exit code. */
export async function runPolicyCommand(args: readonly string[]): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  let code = 0;
  const io: PolicyCommandIo = {
    stdout: { write: (s: string) => { out += s; } }, stderr: { write: (s: string) => { err += s; } },
    setExitCode: (c) => { code = c; }, clock: { now: () => Date.UTC(2024, 5, 5, 10), monotonic: () => 0 },
  };
  await policyCommand(io).exitOverride().parseAsync(['node', 'policy', ...args]);
  return { out, err, code };
}
