/**
 * The proxy auto-config file served at http://<listen>/proxy.pac. Local names and loopback go direct; everything
 * else through Portico, with no DIRECT fallback: an office policy must not be bypassed when the proxy is down.
 */
export function pacFile(proxyAuthority: string): string {
  return `// Portico proxy auto-configuration
function FindProxyForURL(url, host) {
  if (isPlainHostName(host) || host === "localhost" || shExpMatch(host, "127.*") || host === "[::1]") {
    return "DIRECT";
  }
  return "PROXY ${proxyAuthority}";
}
`;
}
