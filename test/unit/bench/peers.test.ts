import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haproxyL7Config, nginxL7Config } from '../../bench/lib/peers.js';

function installed(cmd: string): boolean {
  const r = spawnSync(cmd, ['-v'], { stdio: 'ignore' });
  return r.error === undefined;
}

const hasNginx = installed('nginx');
const hasHaproxy = installed('haproxy');
if (!hasNginx || !hasHaproxy) {
  console.warn(`\n*** bench peers: ${[hasNginx ? '' : 'nginx', hasHaproxy ? '' : 'haproxy'].filter(Boolean).join(' and ')} not installed: their config checks are SKIPPED (../shared/bench/install.sh installs them) ***\n`);
}

describe('bench peer configurations (scenario E\'s L7 peers)', () => {
  let dir = '';
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'portico-peers-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('nginx: round robin over every backend with a keep-alive pool, two workers, no access log, loopback only', () => {
    const conf = nginxL7Config('/d', 18080, [9001, 9002, 9003], 2);
    expect(conf).toContain('worker_processes 2;');
    expect(conf.match(/server 127\.0\.0\.1:900\d;/g)).toEqual(['server 127.0.0.1:9001;', 'server 127.0.0.1:9002;', 'server 127.0.0.1:9003;']);
    expect(conf).toContain('keepalive 64;');
    expect(conf).toContain('proxy_set_header Connection "";');
    expect(conf).toContain('access_log off;');
    expect(conf).toContain('listen 127.0.0.1:18080');
  });

  it('haproxy: round robin over every backend, reused server connections, nbthread as asked, loopback only', () => {
    const conf = haproxyL7Config('/d', 18081, [9001, 9002], 2);
    expect(conf).toContain('nbthread 2');
    expect(conf).toContain('balance roundrobin');
    expect(conf).toContain('http-reuse always');
    expect(conf.match(/server b\d 127\.0\.0\.1:\d+/g)).toEqual(['server b1 127.0.0.1:9001', 'server b2 127.0.0.1:9002']);
    expect(conf).toContain('bind 127.0.0.1:18081');
  });

  it.skipIf(!hasNginx)('nginx accepts its configuration (nginx -t)', async () => {
    const conf = join(dir, 'nginx.conf');
    await writeFile(conf, nginxL7Config(dir, 18080, [9001, 9002, 9003], 2));
    const r = spawnSync('nginx', ['-t', '-p', dir, '-e', join(dir, 'error.log'), '-c', conf], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });

  it.skipIf(!hasHaproxy)('haproxy accepts its configuration (haproxy -c)', async () => {
    const conf = join(dir, 'haproxy.cfg');
    await writeFile(conf, haproxyL7Config(dir, 18081, [9001, 9002, 9003], 2));
    const r = spawnSync('haproxy', ['-c', '-f', conf], { encoding: 'utf8' });
    expect(r.status, r.stderr + r.stdout).toBe(0);
  });
});
