import type { CaMaterial } from '../tls/ca.js';

/** What http://portico.ca/<path> answers with (a plain value: the front door writes it). */
export interface CaPageResponse { status: number; headers: Array<[string, string]>; body: Buffer }

export const CA_PEM_PATH = '/portico-ca.pem';
export const CA_DER_PATH = '/portico-ca.crt';

interface Platform { id: string; title: string; steps: string[] }

/** `code` and links are written literally; everything else in these strings is trusted, fixed text. */
const PLATFORMS: readonly Platform[] = [
  { id: 'windows', title: 'Windows', steps: [
    `Download <a href="${CA_DER_PATH}">portico-ca.crt</a>, then in an administrator prompt: <code>certutil -addstore -f ROOT portico-ca.crt</code> (only for you: <code>certutil -user -addstore Root portico-ca.crt</code>).`,
    'Or double-click the file → <em>Install Certificate</em> → <em>Local Machine</em> → <em>Place all certificates in the following store</em> → <em>Trusted Root Certification Authorities</em> (the MMC “Certificates” snap-in shows it there).',
  ] },
  { id: 'macos', title: 'macOS', steps: [
    `Download <a href="${CA_PEM_PATH}">portico-ca.pem</a>, then: <code>sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain portico-ca.pem</code>`,
    'Or open it in Keychain Access, add it to <em>System</em>, open it and set <em>When using this certificate</em> to <em>Always Trust</em>.',
  ] },
  { id: 'debian', title: 'Debian / Ubuntu', steps: [
    '<code>sudo cp portico-ca.pem /usr/local/share/ca-certificates/portico-ca.crt &amp;&amp; sudo update-ca-certificates</code> (the copy must end in <code>.crt</code>).',
  ] },
  { id: 'fedora', title: 'Fedora / RHEL', steps: [
    '<code>sudo trust anchor portico-ca.pem</code> (or copy it to <code>/etc/pki/ca-trust/source/anchors/</code> and run <code>sudo update-ca-trust</code>).',
  ] },
  { id: 'firefox', title: 'Firefox, and Chrome on Linux (NSS)', steps: [
    'Firefox keeps its own store: <em>Settings</em> → <em>Privacy &amp; Security</em> → <em>Certificates</em> → <em>View Certificates</em> → <em>Authorities</em> → <em>Import</em>, and tick <em>Trust this CA to identify websites</em>.',
    'Chrome and Chromium on Linux read the NSS database: <code>certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n portico -i portico-ca.pem</code> (package <code>libnss3-tools</code>).',
  ] },
  { id: 'android', title: 'Android', steps: [
    `Download <a href="${CA_DER_PATH}">portico-ca.crt</a>, then <em>Settings</em> → <em>Security</em> → <em>Encryption &amp; credentials</em> → <em>Install a certificate</em> → <em>CA certificate</em>.`,
    'Apps targeting Android 7+ ignore user CAs unless their network security config trusts them; browsers usually do.',
  ] },
  { id: 'ios', title: 'iOS / iPadOS', steps: [
    `Open <a href="${CA_PEM_PATH}">portico-ca.pem</a> in Safari and allow the profile download; install it in <em>Settings</em> → <em>General</em> → <em>VPN &amp; Device Management</em>.`,
    'Then enable it in <em>Settings</em> → <em>General</em> → <em>About</em> → <em>Certificate Trust Settings</em>.',
  ] },
  { id: 'tools', title: 'Command-line tools', steps: [
    '<code>curl --cacert portico-ca.pem</code>, <code>NODE_EXTRA_CA_CERTS=portico-ca.pem</code>, Python requests <code>REQUESTS_CA_BUNDLE=portico-ca.pem</code>, OpenSSL-based tools <code>SSL_CERT_FILE</code>.',
  ] },
];

/** The install page served at http://portico.ca/ through the proxy (the counterpart of mitmproxy's mitm.it). */
export function caPage(opts: { fingerprintSha256: string }): string {
  const sections = PLATFORMS.map((p) =>
    `<section id="${p.id}"><h2>${p.title}</h2><ul>${p.steps.map((s) => `<li>${s}</li>`).join('')}</ul></section>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Portico CA certificate</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}code{background:#eee;padding:0 .2em;word-break:break-all}.fp{font-family:monospace;word-break:break-all}</style>
</head><body>
<h1>Portico CA certificate</h1>
<p>To inspect HTTPS, Portico signs certificates with its own CA. Install it only on devices you use with this proxy,
and remove it when you are done: whoever holds its private key can read this device's HTTPS traffic.</p>
<p><a href="${CA_PEM_PATH}">Download portico-ca.pem</a> (PEM) · <a href="${CA_DER_PATH}">Download portico-ca.crt</a> (DER)</p>
<p>Before trusting it, compare the SHA-256 fingerprint with the one <code>portico ca init</code> printed:<br>
<span class="fp">${escapeHtml(opts.fingerprintSha256)}</span></p>
${sections}
</body></html>
`;
}

/** The three routes of http://portico.ca/, rendered once: the CA does not change while the proxy runs. */
export function caPageRoutes(ca: Pick<CaMaterial, 'x509' | 'fingerprintSha256'>): (path: string) => CaPageResponse {
  const html = reply(200, 'text/html; charset=utf-8', Buffer.from(caPage({ fingerprintSha256: ca.fingerprintSha256 }), 'utf8'));
  const pem = reply(200, 'application/x-pem-file', Buffer.from(ca.x509.toString(), 'utf8'), 'portico-ca.pem');
  const der = reply(200, 'application/x-x509-ca-cert', Buffer.from(ca.x509.raw), 'portico-ca.crt');
  const notFound = reply(404, 'text/plain; charset=utf-8', Buffer.from(`Not found. The CA certificate is at http://portico.ca${CA_PEM_PATH}\n`, 'utf8'));
  const routes = new Map<string, CaPageResponse>([['/', html], ['/index.html', html], [CA_PEM_PATH, pem], [CA_DER_PATH, der]]);
  // A fresh headers array per answer: the caller may append to it (Date, Connection) without touching the template.
  return (path) => {
    const r = routes.get(path) ?? notFound;
    return { status: r.status, headers: r.headers.map(([k, v]): [string, string] => [k, v]), body: r.body };
  };
}

function reply(status: number, contentType: string, body: Buffer, attachment?: string): CaPageResponse {
  const headers: Array<[string, string]> = [
    ['Content-Type', contentType],
    ['Content-Length', String(body.length)],
    ['Cache-Control', 'no-store'],
    ['X-Content-Type-Options', 'nosniff'],
  ];
  if (attachment) headers.push(['Content-Disposition', `attachment; filename="${attachment}"`]);
  return { status, headers, body };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
