import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestPki { dir: string; caCert: string; caFile: string; key: string; cert: string }

/**
 * An independent test CA (openssl, not Portico's code) and a leaf for localhost / 127.0.0.1 / ::1, so HTTPS
 * origins in tests are verified against something Portico did not make.
 */
export async function makeTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'portico-pki-'));
  const p = (f: string): string => join(dir, f);
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('ca.key'), '-out', p('ca.pem'),
    '-subj', '/CN=Portico Test Origin CA', '-days', '2', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign']);
  await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('leaf.key'), '-out', p('leaf.csr'), '-subj', '/CN=localhost']);
  await writeFile(p('ext.cnf'), 'subjectAltName=DNS:localhost,DNS:origin.test,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n');
  await run('openssl', ['x509', '-req', '-in', p('leaf.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial',
    '-out', p('leaf.pem'), '-extfile', p('ext.cnf'), '-days', '2']);
  return {
    dir, caFile: p('ca.pem'), caCert: await readFile(p('ca.pem'), 'utf8'),
    key: await readFile(p('leaf.key'), 'utf8'), cert: await readFile(p('leaf.pem'), 'utf8'),
  };
}
