import { describe, expect, it } from 'vitest';
import type { ListenSpec } from '../../../src/reverse/listen-schema.js';
import { planListeners } from '../../../src/reverse/listener-plan.js';

const tls = (minVersion: 'TLSv1.2' | 'TLSv1.3' = 'TLSv1.2', cert = 'a.pem') =>
  ({ cert, key: 'a.key', certificates: [], minVersion, handshakeTimeoutMs: 10_000 });
const http = (port: number, host = '127.0.0.1'): ListenSpec => ({ host, port });
const https = (port: number, t = tls()): ListenSpec => ({ host: '127.0.0.1', port, tls: t });

describe('planListeners', () => {
  it('nothing changes when the list is the same (port 0 keeps its listener)', () => {
    expect(planListeners([http(0), https(8443)], [http(0), https(8443)])).toEqual({ keep: [[0, 0], [1, 1]], rebind: [], add: [], remove: [] });
  });

  it('adds new addresses and removes missing ones, matching by address, not position', () => {
    expect(planListeners([http(8081), http(8082)], [http(8083), http(8081)])).toEqual({ keep: [[0, 1]], rebind: [], add: [0], remove: [1] });
  });

  it('another host on the port of a listener that goes replaces it (the wildcard could not be bound beside it)', () => {
    expect(planListeners([http(8081)], [http(8081, '0.0.0.0')])).toEqual({ keep: [], rebind: [[0, 0]], add: [], remove: [] });
    expect(planListeners([http(8081), http(8082)], [http(8081), http(8081, '::1')])).toEqual({ keep: [[0, 0]], rebind: [], add: [1], remove: [1] });
    expect(planListeners([http(0)], [http(0, '::1')])).toEqual({ keep: [], rebind: [], add: [0], remove: [0] });
  });

  it('HTTP ↔ HTTPS, or another minimum TLS version, rebinds; other certificates alone do not', () => {
    expect(planListeners([http(8081), https(8443), https(9443)], [https(8081), https(8443, tls('TLSv1.2', 'b.pem')), https(9443, tls('TLSv1.3'))]))
      .toEqual({ keep: [[1, 1]], rebind: [[0, 0], [2, 2]], add: [], remove: [] });
    expect(planListeners([https(8443)], [http(8443)]).rebind).toEqual([[0, 0]]);
  });

  it('the same address twice matches each current listener once', () => {
    expect(planListeners([http(0)], [http(0), http(0)])).toEqual({ keep: [[0, 0]], rebind: [], add: [1], remove: [] });
  });
});
