// Random bytes for what an agent draws while it starts (its life id, its random seed, the admin token):
// from the kernel's generator, /dev/urandom, as OpenSSL seeds itself, so that a start does not load
// node's crypto module (and the internal modules it loads) before its app API answers. Where /dev/urandom
// cannot be read, node's crypto draws them instead.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

/** Bounded: a read from /dev/urandom returns what was asked; a short one is read again, a few times. */
const MAX_READS = 8;

export function startRandomBytes(n: number): Buffer {
  const out = Buffer.alloc(n);
  let fd: number | null = null;
  try {
    fd = openSync('/dev/urandom', 'r');
    let got = 0;
    for (let i = 0; i < MAX_READS && got < n; i++) got += readSync(fd, out, got, n - got, null);
    if (got === n) return out;
  } catch {
    // no /dev/urandom here: node's generator below
  } finally {
    if (fd !== null) closeSync(fd);
  }
  return randomBytes(n);
}
