import type { Socket } from 'node:net';

/** The client's address with IPv4-mapped IPv6 unwrapped (::ffff:10.0.0.1 → 10.0.0.1). */
export function clientAddress(socket: Socket): { ip: string; port: number } {
  const raw = socket.remoteAddress ?? '0.0.0.0';
  const ip = raw.startsWith('::ffff:') && raw.includes('.') ? raw.slice(7) : raw;
  return { ip, port: socket.remotePort ?? 0 };
}
