import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, redisReachable } from './redis.js';

const run = promisify(execFile);

export interface TestSentinel {
  /** redis+sentinel://127.0.0.1:SENTINEL_PORT/MASTER */
  readonly url: string;
  readonly masterName: string;
  readonly masterPort: number;
  readonly sentinelPort: number;
  stop(): Promise<void>;
}

/**
 * A throwaway master (no persistence) plus one `redis-server --sentinel` that monitors it, on spare ports with configs
 * in a temp dir (Sentinel rewrites its config file, so it needs its own). Never touches the shared Redis on 6379.
 * Both servers are killed by their pids in stop().
 */
export async function spawnSentinel(masterName = 'portico-test-master'): Promise<TestSentinel> {
  const dir = await mkdtemp(join(tmpdir(), 'portico-sentinel-'));
  const masterPort = await freePort();
  const sentinelPort = await freePort();
  const children: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    for (const c of children) c.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  };
  try {
    children.push(spawn('redis-server', ['--port', String(masterPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' }));
    await waitReachable(masterPort);
    const conf = join(dir, 'sentinel.conf');
    await writeFile(conf, [
      `port ${sentinelPort}`, 'bind 127.0.0.1', `dir ${dir}`,
      `sentinel monitor ${masterName} 127.0.0.1 ${masterPort} 1`,
      `sentinel down-after-milliseconds ${masterName} 5000`, '',
    ].join('\n'));
    children.push(spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' }));
    await waitReachable(sentinelPort);
    for (let i = 0; i < 100; i++) {
      const { stdout } = await run('redis-cli', ['-p', String(sentinelPort), 'sentinel', 'get-master-addr-by-name', masterName]);
      if (stdout.includes(String(masterPort))) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    return { url: `redis+sentinel://127.0.0.1:${sentinelPort}/${masterName}`, masterName, masterPort, sentinelPort, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitReachable(port: number): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (await redisReachable(`redis://127.0.0.1:${port}`)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`redis-server on ${port} did not start`);
}
