/** An origin PKI made with openssl (independent of Portico's code): a CA and a leaf for 127.0.0.1 / localhost. */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface OriginPki { caFile: string; certFile: string; keyFile: string }

export async function makeOriginPki(dir: string): Promise<OriginPki> {
  const p = (f: string): string => join(dir, f);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', p('origin-ca.key'), '-out', p('origin-ca.pem'),
    '-subj', '/CN=Portico Bench Origin CA', '-days', '2',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  await run('openssl', ['req', ...ec, '-keyout', p('origin.key'), '-out', p('origin.csr'), '-subj', '/CN=127.0.0.1']);
  await writeFile(p('origin-ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await run('openssl', ['x509', '-req', '-in', p('origin.csr'), '-CA', p('origin-ca.pem'), '-CAkey', p('origin-ca.key'),
    '-CAcreateserial', '-out', p('origin.pem'), '-extfile', p('origin-ext.cnf'), '-days', '2']);
  return { caFile: p('origin-ca.pem'), certFile: p('origin.pem'), keyFile: p('origin.key') };
}
