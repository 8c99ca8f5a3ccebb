import { BlockList, isIP } from 'node:net';

/** Config form: `staff: { clients: [10.1.0.0/16], users: [alice, bob] }`. */
export interface GroupSpec {
  readonly clients?: readonly string[];
  readonly users?: readonly string[];
}

/** Distinct clients whose groups are remembered (see Groups.memo). */
const GROUP_MEMO_ENTRIES = 4096;

interface CompiledGroup {
  readonly name: string;
  /** IPv4 ranges as [network, mask] integers: BlockList.check builds a SocketAddress per call (~1 µs). */
  readonly v4: ReadonlyArray<readonly [number, number]>;
  readonly v6: BlockList | undefined;
  readonly users: ReadonlySet<string>;
}

/** Client groups compiled once: CIDRs (IPv4 as integers, IPv6 in a BlockList) and proxy-auth users per group. */
export class Groups {
  private readonly groups: CompiledGroup[] = [];
  /**
   * Client (address, user) → its groups. An office's clients are few and come back on every request, and parsing the
   * address and testing every CIDR was ~8% of a decision. Bounded: dropped whole when full, rebuilt with the policy.
   */
  private readonly memo = new Map<string, ReadonlySet<string>>();

  /** Throws `group NAME: invalid CIDR "…"` on a bad entry. */
  constructor(specs: Readonly<Record<string, GroupSpec>>) {
    for (const [name, spec] of Object.entries(specs)) this.groups.push(compileGroup(name, spec));
  }

  has(name: string): boolean {
    return this.groups.some((g) => g.name === name);
  }

  get names(): string[] {
    return this.groups.map((g) => g.name);
  }

  /** Every group the client belongs to, by address or by user name. */
  of(clientIp: string, user: string | undefined): ReadonlySet<string> {
    const key = user === undefined ? clientIp : `${clientIp}\n${user}`;
    let groups = this.memo.get(key);
    if (groups === undefined) {
      if (this.memo.size >= GROUP_MEMO_ENTRIES) this.memo.clear();
      groups = this.compute(clientIp, user);
      this.memo.set(key, groups);
    }
    return groups;
  }

  private compute(clientIp: string, user: string | undefined): ReadonlySet<string> {
    const out = new Set<string>();
    const ip = normaliseIp(clientIp);
    const v4 = ipv4ToInt(ip);
    const v6 = v4 === undefined && isIP(ip) === 6;
    for (const g of this.groups) {
      if (user !== undefined && g.users.has(user)) out.add(g.name);
      else if (v4 !== undefined && g.v4.some(([net, mask]) => ((v4 & mask) >>> 0) === net)) out.add(g.name);
      else if (v6 && g.v6?.check(ip, 'ipv6')) out.add(g.name);
    }
    return out;
  }
}

function compileGroup(name: string, spec: GroupSpec): CompiledGroup {
  const v4: Array<[number, number]> = [];
  let v6: BlockList | undefined;
  for (const raw of spec.clients ?? []) {
    const m = /^([0-9a-fA-F:.]+)(?:\/(\d{1,3}))?$/.exec(raw.trim());
    const family = m ? isIP(m[1] as string) : 0;
    const max = family === 4 ? 32 : 128;
    const bits = m?.[2] === undefined ? max : Number(m[2]);
    if (!m || family === 0 || bits > max) throw new Error(`group ${name}: invalid CIDR "${raw}"`);
    if (family === 4) {
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      v4.push([((ipv4ToInt(m[1] as string) as number) & mask) >>> 0, mask]);
    } else {
      v6 ??= new BlockList();
      v6.addSubnet(m[1] as string, bits, 'ipv6');
    }
  }
  return { name, v4, v6, users: new Set(spec.users ?? []) };
}

/** Dotted quad → unsigned 32-bit integer; undefined for anything else. */
export function ipv4ToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

/** ::ffff:10.0.0.1 (a v4 client on a dual-stack socket) is 10.0.0.1; zone ids are dropped. */
function normaliseIp(ip: string): string {
  const addr = ip.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
  return mapped ? (mapped[1] as string) : addr;
}
