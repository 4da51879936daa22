// The agent's edge security at start: control-plane TLS material (watched for rotation) and the admin
// token for the HTTP admin routes. Kept apart from cli/agent.ts so the composition root stays short.
import type { Logger } from 'pino';
import { formatHostPort, type SwimringConfig } from '../config.js';
import { isLoopbackHost } from '../net/address.js';
import { NegotiateRateLimiter } from '../grpc/rate-limit.js';
import { clientTls, serverCredentials, TlsFiles } from '../grpc/tls.js';
import { defaultAdminTokenFile, newAdminToken, removeAdminTokenFile, writeAdminTokenFile } from '../http/admin-token.js';

export interface ControlPlaneSecurity {
  readonly grpcTls?: ReturnType<typeof grpcTlsOf>;
  readonly negotiateRate: NegotiateRateLimiter;
  close(): void;
}

function grpcTlsOf(files: TlsFiles, serverName: string | null) {
  return { server: serverCredentials(files), client: clientTls(files, serverName) };
}

/** Loads the TLS files (a problem string when they cannot be used: refuse to start). */
export function setupControlPlane(
  config: SwimringConfig,
  logger: Logger,
  countReload: (result: 'reloaded' | 'failed') => void,
): ControlPlaneSecurity | { problem: string } {
  const negotiateRate = new NegotiateRateLimiter(config.negotiateRate);
  const tls = config.tls;
  if (tls === null) return { negotiateRate, close: () => undefined };
  let files: TlsFiles;
  try {
    files = new TlsFiles({
      certFile: tls.certFile,
      keyFile: tls.keyFile,
      caFile: tls.caFile,
      pollMs: tls.reloadIntervalMs,
      onReload: (result, detail) => {
        countReload(result);
        if (result === 'reloaded') logger.info({ cert: tls.certFile }, 'control-plane TLS material reloaded; new connections use it');
        else logger.error({ detail }, 'control-plane TLS files changed but cannot be used; keeping the previous material');
      },
    });
  } catch (err) {
    return { problem: err instanceof Error ? err.message : String(err) };
  }
  logger.info({ cert: tls.certFile, mutual: tls.caFile !== null, serverName: tls.serverName ?? 'the dialed host' }, 'control-plane TLS on');
  return { grpcTls: grpcTlsOf(files, tls.serverName), negotiateRate, close: () => files.close() };
}

export interface AdminToken {
  /** null: no token could be set up, so every admin action is refused (the agent still serves). */
  readonly token: string | null;
  /** Removes the token file this agent wrote, if any. */
  release(): Promise<void>;
}

/**
 * The HTTP token when one is configured; otherwise a fresh random token left in the admin token file.
 * A file that cannot be written (a read-only /tmp in a hardened container) does not stop the agent:
 * membership and routing need no token, so it starts without one and says loudly how to get admin
 * actions (leave, key rotation) back. SIGTERM still leaves gracefully without a token.
 */
export async function setupAdminToken(config: SwimringConfig, logger: Logger): Promise<AdminToken> {
  // Never the HTTP token: an app client of the API must not be able to rotate keys or make us leave.
  if (config.adminToken !== null) return { token: config.adminToken, release: async () => undefined };
  const path = config.adminTokenFile ?? defaultAdminTokenFile(config.name);
  const token = newAdminToken();
  try {
    await writeAdminTokenFile(path, token);
  } catch (err) {
    logger.warn(
      { file: path, err: err instanceof Error ? err.message : String(err) },
      'cannot write the admin token file: admin actions (POST /v1/leave, key rotation) are refused until an admin token is configured. ' +
        'Set SWIMRING_ADMIN_TOKEN, or point --admin-token-file (SWIMRING_ADMIN_TOKEN_FILE) at a writable directory (in Kubernetes: an emptyDir on /tmp). ' +
        'Membership, routes and a SIGTERM leave work without it',
    );
    return { token: null, release: async () => undefined };
  }
  logger.info({ file: path }, 'admin token written (mode 0600); admin actions need it as a bearer token');
  return { token, release: () => removeAdminTokenFile(path, token) };
}

/**
 * Without a keyring anyone who can send to the gossip and gRPC ports is a member: it can forge
 * accusations, claim names and read the member list (docs/security.md). Fine on loopback, worth a
 * warning anywhere else.
 */
export function warnIfOpen(config: SwimringConfig, encrypted: boolean, logger: Logger): void {
  if (encrypted || (isLoopbackHost(config.gossipAddr.host) && isLoopbackHost(config.advertiseHost))) return;
  logger.warn(
    { gossip: formatHostPort(config.gossipAddr), advertise: config.advertiseHost, label: config.label ?? null },
    'gossip is plaintext and unauthenticated on a non-loopback address: every host that reaches the gossip or gRPC port can forge membership news; set a keyring (SWIMRING_KEYRING or --keyring-file, docs/security.md)',
  );
}
