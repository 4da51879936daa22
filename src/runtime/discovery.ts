// Seed discovery: static "host:port" entries, and DNS names whose every A/AAAA record is a seed
// (a Kubernetes headless Service). Names are re-resolved on every join attempt, so pods that appear
// later are found and pods that went away are dropped.
import { promises as dnsPromises } from 'node:dns';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import { formatHostPort, mustParseHostPort, parseHostPort } from '../net/address.js';

export interface SeedResolution {
  readonly addresses: readonly string[];
  /** One line per seed entry that produced nothing, for the join log. */
  readonly problems: readonly string[];
}

export interface SeedResolverOptions {
  /** DNS servers as "ip" or "ip:port" (tests point this at a server on loopback); system resolver otherwise. */
  readonly dnsServers?: readonly string[];
  readonly defaultPort: number;
  readonly timeoutMs?: number;
}

export class SeedResolver {
  private readonly resolver: dnsPromises.Resolver;

  constructor(private readonly opts: SeedResolverOptions) {
    this.resolver = new dnsPromises.Resolver({ timeout: opts.timeoutMs ?? 2000, tries: 2 });
    if (opts.dnsServers && opts.dnsServers.length > 0) this.resolver.setServers([...opts.dnsServers]);
  }

  async resolve(seeds: readonly string[]): Promise<SeedResolution> {
    const addresses = new Set<string>();
    const problems: string[] = [];
    for (const seed of seeds) {
      const parsed = parseHostPort(seed, { allowPortZero: true, defaultPort: this.opts.defaultPort, hosts: 'shape' });
      if (!parsed.ok) {
        problems.push(parsed.reason);
        continue;
      }
      const hp = parsed.value;
      if (isIP(hp.host) !== 0) {
        addresses.add(formatHostPort(hp));
        continue;
      }
      const ips = await this.lookupAll(hp.host);
      if (ips.length === 0) problems.push(`${seed}: no A or AAAA records`);
      for (const ip of ips) addresses.add(formatHostPort({ host: ip, port: hp.port }));
    }
    return { addresses: [...addresses].sort(), problems };
  }

  private async lookupAll(host: string): Promise<string[]> {
    const [v4, v6] = await Promise.all([
      this.resolver.resolve4(host).catch(() => [] as string[]),
      this.resolver.resolve6(host).catch(() => [] as string[]),
    ]);
    if (v4.length + v6.length > 0) return [...v4, ...v6];
    // Names only the system resolver knows (/etc/hosts, "localhost"): ask getaddrinfo, unless the
    // operator pinned DNS servers, in which case they are the only truth.
    if (this.opts.dnsServers && this.opts.dnsServers.length > 0) return [];
    const all = await dnsPromises.lookup(host, { all: true }).catch(() => []);
    return all.map((a) => a.address);
  }
}

/** Where this member listens for the control plane, to tell its own address in a seed list. */
export interface OwnControlPlane {
  readonly grpcAddr: string;
  readonly grpcBind: string;
  readonly advertiseHost: string;
}

/** A seed list (or a headless Service) usually includes this member itself. */
export function isOwnAddress(addr: string, own: OwnControlPlane): boolean {
  if (addr === own.grpcAddr) return true;
  const hp = mustParseHostPort(addr);
  if (hp.port !== mustParseHostPort(own.grpcAddr).port) return false;
  const bindHost = mustParseHostPort(own.grpcBind).host;
  if (hp.host === bindHost || hp.host === own.advertiseHost) return true;
  return (bindHost === '0.0.0.0' || bindHost === '::') && localAddresses().has(hp.host);
}

function localAddresses(): Set<string> {
  const out = new Set<string>(['127.0.0.1', '::1']);
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(a.address);
  return out;
}

/** The control-plane port peers use when a seed names none. */
export const GRPC_DEFAULT_PORT = 7947;

/** The seed resolver port of a real member: re-resolves `seeds` on every call, leaves this member out. */
export function otherSeeds(seeds: readonly string[], dnsServers: readonly string[] | undefined, own: OwnControlPlane, logger: Logger): () => Promise<string[]> {
  const resolver = new SeedResolver({ defaultPort: GRPC_DEFAULT_PORT, ...(dnsServers ? { dnsServers } : {}) });
  return async () => {
    const { addresses, problems } = await resolver.resolve(seeds);
    if (problems.length > 0) logger.warn({ problems }, 'some seeds did not resolve');
    return addresses.filter((a) => !isOwnAddress(a, own));
  };
}
