// TLS for the control plane: certificate, key and CA read from files and re-read when they change.
// Kubernetes mounts secrets as symlinks into a "..data" folder it swaps atomically, so a change shows
// as a directory event (fs.watch on each folder) or, where watching is unreliable (some volume types,
// renames across symlinks), as a new inode/size/mtime at the next periodic stat. New material reaches
// grpc-js through its CertificateProvider interface and applies to new connections; a file that fails
// to load (half-written, key not matching the certificate) keeps the old material and is reported.
import * as grpc from '@grpc/grpc-js';
import { readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';

export interface TlsFileOptions {
  /** PEM certificate chain this member presents, as server and as client. */
  readonly certFile: string;
  /** PEM private key of certFile. */
  readonly keyFile: string;
  /** PEM CA bundle: peers' certificates must chain to it, and with it every caller must present one. */
  readonly caFile: string | null;
  /** Interval of the stat fallback, ms. Default 10,000. */
  readonly pollMs?: number;
  /** Wait after a directory event before reading, so a burst of writes is read once. Default 200 ms. */
  readonly settleMs?: number;
  /** Called after new material loaded ('reloaded') or a changed file was refused ('failed'). Must not throw. */
  readonly onReload?: (result: 'reloaded' | 'failed', detail: string) => void;
}

interface Material {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | null;
  /** inode:size:mtime of each file, to notice a change without reading. */
  readonly stamp: string;
}

const DEFAULT_POLL_MS = 10_000;
const DEFAULT_SETTLE_MS = 200;
/** A certificate chain, key or CA bundle beyond this is not one; refuse before reading it all. */
const MAX_PEM_BYTES = 1024 * 1024;

/**
 * Loads all three files or throws with the reason. Loading them as one set matters: during a rotation
 * the new certificate may land before its key, and that pair must not be used.
 */
export function loadTlsMaterial(files: Pick<TlsFileOptions, 'certFile' | 'keyFile' | 'caFile'>): Material {
  const stamp = stampOf(files);
  const read = (path: string, what: string): Buffer => {
    const bytes = readFileSync(path);
    if (bytes.length === 0) throw new Error(`${what} ${path} is empty`);
    if (bytes.length > MAX_PEM_BYTES) throw new Error(`${what} ${path} is larger than ${MAX_PEM_BYTES} bytes`);
    return bytes;
  };
  const cert = read(files.certFile, 'certificate');
  const key = read(files.keyFile, 'private key');
  const ca = files.caFile === null ? null : read(files.caFile, 'CA bundle');
  try {
    new X509Certificate(cert);
    if (ca !== null) new X509Certificate(ca);
    // Throws on unparsable PEM and on a key that does not match the certificate.
    createSecureContext({ cert, key, ...(ca !== null ? { ca } : {}) });
  } catch (err) {
    throw new Error(`TLS files refused (${files.certFile}, ${files.keyFile}${files.caFile ? `, ${files.caFile}` : ''}): ${errorText(err)}`);
  }
  return { cert, key, ca, stamp };
}

function stampOf(files: Pick<TlsFileOptions, 'certFile' | 'keyFile' | 'caFile'>): string {
  return [files.certFile, files.keyFile, files.caFile]
    .map((path) => {
      if (path === null) return '-';
      // statSync follows symlinks: a swapped ..data link gives a new inode here.
      const s = statSync(path, { bigint: true });
      return `${s.ino}:${s.size}:${s.mtimeNs}`;
    })
    .join('|');
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The live TLS material of one member, handed to grpc-js as both identity and CA provider. Throws
 * at construction when the files cannot be loaded (a configuration error: refuse to start).
 */
export class TlsFiles implements grpc.experimental.CertificateProvider {
  readonly requireClientCertificate: boolean;
  private material: Material;
  private readonly caListeners = new Set<grpc.experimental.CaCertificateUpdateListener>();
  private readonly identityListeners = new Set<grpc.experimental.IdentityCertificateUpdateListener>();
  private readonly watchers: FSWatcher[] = [];
  private readonly poll: NodeJS.Timeout;
  private settleTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Stamp of the last set refused, so an unchanged bad file is reported once, not every poll. */
  private refusedStamp: string | null = null;

  constructor(private readonly opts: TlsFileOptions) {
    this.material = loadTlsMaterial(opts);
    this.requireClientCertificate = opts.caFile !== null;
    const files = [opts.certFile, opts.keyFile, ...(opts.caFile !== null ? [opts.caFile] : [])];
    for (const dir of new Set(files.map((f) => dirname(f)))) {
      try {
        const w = watch(dir, { persistent: false }, () => this.soon());
        w.on('error', () => w.close());
        this.watchers.push(w);
      } catch {
        // Not watchable here (some network and overlay filesystems): the periodic stat still works.
      }
    }
    this.poll = setInterval(() => this.check(), opts.pollMs ?? DEFAULT_POLL_MS);
    this.poll.unref();
  }

  /** Re-reads the files if any changed; returns what happened (also reported through onReload). */
  check(): 'unchanged' | 'reloaded' | 'failed' {
    if (this.closed) return 'unchanged';
    let stamp: string;
    try {
      stamp = stampOf(this.opts);
    } catch (err) {
      // A file missing for a moment mid-swap; refused like unreadable content.
      return this.refuse(`missing:${errorText(err)}`, errorText(err));
    }
    if (stamp === this.material.stamp || stamp === this.refusedStamp) return 'unchanged';
    let next: Material;
    try {
      next = loadTlsMaterial(this.opts);
    } catch (err) {
      return this.refuse(stamp, errorText(err));
    }
    this.refusedStamp = null;
    const changed = !next.cert.equals(this.material.cert) || !next.key.equals(this.material.key) || !sameBuffer(next.ca, this.material.ca);
    this.material = next;
    if (!changed) return 'unchanged';
    for (const l of this.caListeners) l(this.caUpdate());
    for (const l of this.identityListeners) l(this.identityUpdate());
    this.report('reloaded', `new TLS material from ${this.opts.certFile}`);
    return 'reloaded';
  }

  /** The certificate in use now (PEM), for tests and diagnostics. */
  get certificate(): Buffer {
    return this.material.cert;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.poll);
    if (this.settleTimer) clearTimeout(this.settleTimer);
    for (const w of this.watchers) w.close();
    this.watchers.length = 0;
  }

  addCaCertificateListener(listener: grpc.experimental.CaCertificateUpdateListener): void {
    this.caListeners.add(listener);
    this.deliverLater(() => this.caListeners.has(listener) && listener(this.caUpdate()));
  }
  removeCaCertificateListener(listener: grpc.experimental.CaCertificateUpdateListener): void {
    this.caListeners.delete(listener);
  }
  addIdentityCertificateListener(listener: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.add(listener);
    this.deliverLater(() => this.identityListeners.has(listener) && listener(this.identityUpdate()));
  }
  removeIdentityCertificateListener(listener: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.delete(listener);
  }

  private caUpdate(): grpc.experimental.CaCertificateUpdate | null {
    return this.material.ca === null ? null : { caCertificate: this.material.ca };
  }
  private identityUpdate(): grpc.experimental.IdentityCertificateUpdate {
    return { certificate: this.material.cert, privateKey: this.material.key };
  }

  /**
   * grpc-js's server credentials subscribe to the provider before they register their own watcher,
   * so an answer given during the subscription would be lost and the server would drop every
   * connection; the current material goes out on the next turn instead.
   */
  private deliverLater(deliver: () => unknown): void {
    queueMicrotask(() => {
      deliver();
    });
  }

  private soon(): void {
    if (this.closed || this.settleTimer) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = null;
      this.check();
    }, this.opts.settleMs ?? DEFAULT_SETTLE_MS);
    this.settleTimer.unref();
  }

  private refuse(stamp: string, detail: string): 'failed' | 'unchanged' {
    if (stamp === this.refusedStamp) return 'unchanged';
    this.refusedStamp = stamp;
    this.report('failed', `${detail}; keeping the previous TLS material`);
    return 'failed';
  }

  private report(result: 'reloaded' | 'failed', detail: string): void {
    try {
      this.opts.onReload?.(result, detail);
    } catch {
      // A logging or metrics callback must not stop the watcher.
    }
  }
}

function sameBuffer(a: Buffer | null, b: Buffer | null): boolean {
  return a === null || b === null ? a === b : a.equals(b);
}

/** Server side: TLS with the member's certificate; with a CA, callers without a valid client certificate are refused. */
export function serverCredentials(tls: TlsFiles | null): grpc.ServerCredentials {
  if (tls === null) return grpc.ServerCredentials.createInsecure();
  // grpc-js 1.14's factory hands its first two arguments to the constructor as (identity, ca), the
  // reverse of its declared names; one object serves both, so the order cannot matter here.
  return grpc.experimental.createCertificateProviderServerCredentials(tls, tls.requireClientCertificate ? tls : null, tls.requireClientCertificate);
}

export interface ClientTls {
  readonly credentials: grpc.ChannelCredentials;
  readonly channelOptions: grpc.ChannelOptions;
}

/**
 * Client side. With a CA: peers are verified against it and this member presents its certificate.
 * Without one: peers are verified against the system roots and no client certificate is sent.
 * `serverName` is the name peers' certificates are checked against, for members addressed by IP
 * whose certificate names a DNS name (all members may share one); without it, the dialed host.
 */
export function clientTls(tls: TlsFiles | null, serverName: string | null): ClientTls {
  if (tls === null) return { credentials: grpc.credentials.createInsecure(), channelOptions: {} };
  const credentials = tls.requireClientCertificate
    ? grpc.experimental.createCertificateProviderChannelCredentials(tls, tls)
    : grpc.credentials.createSsl();
  const channelOptions: grpc.ChannelOptions =
    serverName === null ? {} : { 'grpc.ssl_target_name_override': serverName, 'grpc.default_authority': serverName };
  return { credentials, channelOptions };
}
