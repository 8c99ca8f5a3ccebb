import type { ResponseHead } from '../core/flow.js';
import { pacFile } from './pac.js';

export interface LocalResponse { status: number; headers: ResponseHead['headers']; body: Buffer }

/** Requests answered by the proxy itself: the PAC file and an info page on its own address, the CA page at portico.ca. */
export interface LocalRoutes {
  /** Origin-form requests addressed to the proxy (`GET /proxy.pac`). */
  self(path: string, hostHeader: string | undefined, listen: string): LocalResponse;
  /** Absolute-form requests for http://portico.ca/…, or undefined when the host is not the CA page's. */
  caPage(host: string, path: string): LocalResponse | undefined;
}

export const CA_PAGE_HOST = 'portico.ca';

export function textResponse(status: number, contentType: string, text: string): LocalResponse {
  const body = Buffer.from(text, 'utf8');
  return {
    status,
    headers: [['Content-Type', contentType], ['Content-Length', String(body.length)], ['Cache-Control', 'no-store']],
    body,
  };
}

export function createLocalRoutes(ca: ((path: string) => LocalResponse) | undefined): LocalRoutes {
  return {
    self(path, hostHeader, listen) {
      const pathname = path.split('?')[0];
      if (pathname === '/proxy.pac') {
        return textResponse(200, 'application/x-ns-proxy-autoconfig', pacFile(hostHeader ?? listen));
      }
      if (pathname === '/') {
        return textResponse(200, 'text/plain; charset=utf-8',
          `Portico forward proxy. Configure http://${hostHeader ?? listen} as your HTTP and HTTPS proxy,\n` +
          `or use the auto-config file http://${hostHeader ?? listen}/proxy.pac. CA certificate: http://${CA_PAGE_HOST}/\n`);
      }
      return textResponse(404, 'text/plain; charset=utf-8', 'Not found. This is a proxy: send absolute-form requests.\n');
    },
    caPage(host, path) {
      if (host !== CA_PAGE_HOST) return undefined;
      if (!ca) return textResponse(503, 'text/plain; charset=utf-8', 'Portico has no CA yet: run "portico ca init".\n');
      return ca(path.split('?')[0] ?? '/');
    },
  };
}
