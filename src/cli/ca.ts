import { Command, Option } from 'commander';
import { exportCa, initCa } from '../tls/ca.js';

/** Where the command writes; injectable so tests capture output and the exit code instead of touching the process. */
export interface CaCommandIo {
  stdout: { write(chunk: string | Uint8Array): unknown; isTTY?: boolean };
  stderr: { write(chunk: string): unknown };
  setExitCode(code: number): void;
}

const processIo: CaCommandIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  setExitCode: (code) => {
    process.exitCode = code;
  },
};

const DEFAULT_CERTS_DIR = 'certs';

/** `portico ca init|export`: create the interception CA, or print its certificate for installing elsewhere. */
export function caCommand(io: CaCommandIo = processIo): Command {
  const ca = new Command('ca').description('create or export the CA used for HTTPS interception (--mitm)');
  ca.addCommand(withIo(initSubcommand(io), io));
  ca.addCommand(withIo(exportSubcommand(io), io));
  return withIo(ca, io);
}

function initSubcommand(io: CaCommandIo): Command {
  return new Command('init')
    .description('create ca.pem, ca.key and leaf.key (refuses to replace an existing CA without --force)')
    .option('--certs <dir>', 'folder for the CA files', DEFAULT_CERTS_DIR)
    .option('--force', 'replace an existing CA (every device that trusted it must install the new one)', false)
    .action(guarded(io, 'init', async (opts: { certs: string; force: boolean }) => {
      const paths = await initCa(opts.certs, { force: opts.force });
      io.stdout.write([
        `Created the Portico CA in ${paths.dir}`,
        `  certificate  ${paths.certFile}  (install this one in browsers and OS trust stores)`,
        `  CA key       ${paths.keyFile}  (mode 0600; keep it private)`,
        `  leaf key     ${paths.leafKeyFile}  (mode 0600; shared by every issued leaf)`,
        `SHA-256 fingerprint: ${paths.fingerprintSha256}`,
        'Next: run "portico forward --mitm" and open http://portico.ca/ through the proxy for install instructions.',
        '',
      ].join('\n'));
    }));
}

function exportSubcommand(io: CaCommandIo): Command {
  return new Command('export')
    .description('write the CA certificate to stdout (pem text, or der bytes for Windows/Android)')
    .option('--certs <dir>', 'folder of the CA files', DEFAULT_CERTS_DIR)
    .addOption(new Option('--format <format>', 'output encoding').choices(['pem', 'der']).default('pem'))
    .action(guarded(io, 'export', async (opts: { certs: string; format: 'pem' | 'der' }) => {
      // Raw DER on a terminal prints garbage and can leave it in a strange state; ask for a redirect instead.
      if (opts.format === 'der' && io.stdout.isTTY) {
        throw new Error('refusing to write binary DER to a terminal: redirect it, e.g. portico ca export --format der > portico-ca.crt');
      }
      io.stdout.write(await exportCa(opts.certs, opts.format));
    }));
}

/** Turns a failure into one line on stderr and exit code 1: the user needs the reason, not a stack trace. */
function guarded<T>(io: CaCommandIo, name: string, action: (opts: T) => Promise<void>): (opts: T) => Promise<void> {
  return async (opts) => {
    try {
      await action(opts);
    } catch (err) {
      io.stderr.write(`portico ca ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
      io.setExitCode(1);
    }
  };
}

function withIo(cmd: Command, io: CaCommandIo): Command {
  return cmd.configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) });
}
