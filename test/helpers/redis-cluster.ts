import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, redisReachable } from './redis.js';

const run = promisify(execFile);

export interface TestCluster { readonly url: string; stop(): Promise<void> }

/** A throwaway 3-master Redis Cluster (no replicas, no persistence) in a temp dir; its servers are killed by pid. */
export async function spawnCluster(): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'portico-cluster-'));
  const ports = [await freePort(), await freePort(), await freePort()];
  const children: ChildProcess[] = ports.map((port) => spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1',
    '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' }));
  const stop = async (): Promise<void> => {
    for (const c of children) c.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      for (let i = 0; i < 100 && !(await redisReachable(`redis://127.0.0.1:${port}`)); i++) await new Promise((r) => setTimeout(r, 20));
    }
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes']);
    for (let i = 0; i < 100; i++) {
      const { stdout } = await run('redis-cli', ['-p', String(ports[0]), 'cluster', 'info']);
      if (stdout.includes('cluster_state:ok')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    return { url: `redis-cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
