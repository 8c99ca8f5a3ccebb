/** Child processes for the bench: spawn and wait for a ready line, run a client for its JSON result, stop them all. */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const BENCH_DIR = join(ROOT, 'test', 'bench');

export interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  /** The last few KiB of stderr, for error messages. */
  stderrTail(): string;
  /** SIGTERM, then SIGKILL after graceMs; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<Proc>();

/** Tracks a child the caller spawned itself (stopAll() stops it; stderr's tail is kept for error messages). */
export function trackProc(name: string, child: ChildProcess): Proc {
  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => { tail = (tail + s).slice(-4096); });
  const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, 'exit').then(() => undefined);
  const proc: Proc = {
    name, child,
    stderrTail: () => tail.trim(),
    stop: async (graceMs = 5000) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      live.delete(proc);
    },
  };
  live.add(proc);
  void exited.then(() => live.delete(proc));
  return proc;
}

/** `node --import tsx FILE ...args`: how every TypeScript child of the bench is started. */
export function tsNode(file: string, args: readonly string[]): [string, string[]] {
  return [process.execPath, ['--import', 'tsx', join(BENCH_DIR, file), ...args]];
}

export interface SpawnReadyOptions {
  /** Matched against each stdout line; the process is ready at the first match. */
  ready: RegExp;
  timeoutMs?: number;
  ipc?: boolean;
  env?: NodeJS.ProcessEnv;
}

/**
 * Starts a server process and waits for its ready line. After that its stdout is drained (read and dropped), so a
 * process that logs to stdout never blocks on a full pipe.
 */
export async function spawnReady(name: string, command: string, args: readonly string[], opts: SpawnReadyOptions): Promise<{ proc: Proc; match: RegExpMatchArray }> {
  const spawnOpts: SpawnOptions = {
    cwd: ROOT,
    env: opts.env ?? process.env,
    stdio: opts.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  };
  const child = spawn(command, [...args], spawnOpts);
  const proc = trackProc(name, child);
  const stdout = child.stdout;
  if (!stdout) throw new Error(`${name}: no stdout pipe`);
  stdout.setEncoding('utf8');
  try {
    const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
      let buffer = '';
      const timer = setTimeout(() => fail(new Error(`${name}: not ready within ${opts.timeoutMs ?? 30_000} ms`)), opts.timeoutMs ?? 30_000);
      const onData = (s: string): void => {
        buffer += s;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          const m = opts.ready.exec(line);
          if (m) return done(m);
        }
        if (buffer.length > 65_536) buffer = buffer.slice(-4096);
      };
      const onExit = (code: number | null, signal: string | null): void =>
        fail(new Error(`${name}: exited before ready (${signal ?? `code ${code}`}): ${proc.stderrTail()}`));
      const cleanup = (): void => {
        clearTimeout(timer);
        stdout.off('data', onData);
        child.off('exit', onExit);
        child.off('error', fail);
      };
      function done(m: RegExpMatchArray): void { cleanup(); resolve(m); }
      function fail(err: Error): void { cleanup(); reject(err); }
      stdout.on('data', onData);
      child.once('exit', onExit);
      child.once('error', fail);
    });
    stdout.resume(); // drain: no listener, the data is dropped
    return { proc, match };
  } catch (err) {
    await proc.stop(1000);
    throw err;
  }
}

/**
 * Runs a client to completion and returns the JSON of its `RESULT {...}` stdout line. Progress and errors on stderr
 * are kept for the error message. `onLine` sees each stdout line as it arrives (e.g. a client's START marker).
 */
export async function runForResult<T>(name: string, command: string, args: readonly string[], timeoutMs: number, onLine?: (line: string) => void): Promise<T> {
  const child = spawn(command, [...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = trackProc(name, child);
  let out = '';
  let seen = 0;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (s: string) => {
    out = (out + s).slice(-1_000_000);
    if (!onLine) return;
    const lines = out.split('\n');
    for (let i = seen; i < lines.length - 1; i++) onLine(lines[i]!);
    seen = lines.length - 1;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    const line = out.split('\n').reverse().find((l) => l.startsWith('RESULT '));
    if (code !== 0 || !line) throw new Error(`${name}: exited ${signal ?? `code ${code}`} without a result: ${proc.stderrTail()}`);
    return JSON.parse(line.slice('RESULT '.length)) as T;
  } finally {
    clearTimeout(timer);
    await proc.stop(1000);
  }
}

/** Stops every child still running (used in `finally` and on SIGINT/SIGTERM). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop(2000)));
}

export function liveCount(): number {
  return live.size;
}

/** On SIGINT/SIGTERM: stop the children, then exit 130/143. `cleanup` runs first (e.g. in-process servers). */
export function stopChildrenOnSignal(cleanup: () => Promise<void>): void {
  const handler = (signal: NodeJS.Signals): void => {
    console.error(`\nbench: ${signal}, stopping ${live.size} child process(es)`);
    void Promise.race([cleanup().catch(() => undefined), new Promise((r) => setTimeout(r, 3000))])
      .then(() => stopAll())
      .finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}
