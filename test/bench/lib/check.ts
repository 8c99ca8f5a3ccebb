/** One plain GET through a forward proxy (absolute-form), before any load: a row that fails is reported clearly. */
import { request } from 'node:http';

export function getViaProxy(proxyPort: number, url: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxyPort, path: url, headers: { host: new URL(url).host }, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => { bytes += c.length; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on('error', reject);
    });
    req.setTimeout(5000, () => req.destroy(new Error(`no answer from the proxy for ${url}`)));
    req.on('error', reject);
    req.end();
  });
}
