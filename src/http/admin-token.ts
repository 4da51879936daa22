// The admin token: admin routes (leave, key rotation) demand it from every client. With no HTTP token
// configured the agent draws one at start and leaves it in a 0600 file that only its own user can read;
// the CLI and the Kubernetes hook (deploy/bin/swimring-hook.mjs, which repeats defaultAdminTokenFile)
// read it from there.
import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startRandomBytes } from '../runtime/start-random.js';

/** Longest token file read back: far above the 43 characters written, far below anything harmful. */
const MAX_TOKEN_FILE_BYTES = 4096;

/** `<os tmpdir>/swimring-<name>.token`; the name is percent-encoded so "/" cannot leave the folder. */
export function defaultAdminTokenFile(name: string, dir: string = tmpdir()): string {
  return join(dir, `swimring-${encodeURIComponent(name)}.token`);
}

/** 32 random bytes, base64url: 43 printable characters, valid as an HTTP token too. */
export function newAdminToken(): string {
  return startRandomBytes(32).toString('base64url');
}

/**
 * Writes `token` to `path`, readable by this user only. The file is created fresh (O_EXCL, mode 0600)
 * beside the target and renamed over it, so a file or symlink planted at `path` in a shared /tmp is
 * replaced, never written through, and a reader never sees half a token. Written with node's synchronous
 * calls: the agent writes it once while it starts, when nothing else waits, and node's fs/promises (with
 * the modules it loads) stays off the start path.
 */
export async function writeAdminTokenFile(path: string, token: string): Promise<void> {
  const temp = join(dirname(path), `.${process.pid}.${startRandomBytes(6).toString('hex')}.token-tmp`);
  const fd = openSync(temp, 'wx', 0o600);
  try {
    // Not synced to disk: the token lives as long as this process, and a start after a machine crash
    // writes a new one, so a sync would only put a disk flush on the way to the app API.
    writeSync(fd, `${token}\n`, null, 'utf8');
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(temp, path);
  } catch (err) {
    try {
      unlinkSync(temp);
    } catch {
      // already gone
    }
    throw err;
  }
}

/** The token in `path`, or a reason it cannot be used. */
export async function readAdminTokenFile(path: string): Promise<{ ok: true; token: string } | { ok: false; reason: string }> {
  let text: string;
  try {
    const handle = await open(path, 'r');
    try {
      const buf = Buffer.alloc(MAX_TOKEN_FILE_BYTES + 1);
      const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
      if (bytesRead > MAX_TOKEN_FILE_BYTES) return { ok: false, reason: `${path} is larger than ${MAX_TOKEN_FILE_BYTES} bytes` };
      text = buf.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch (err) {
    return { ok: false, reason: `cannot read admin token file ${path}: ${err instanceof Error ? err.message : String(err)}` };
  }
  const token = text.trim();
  if (!/^[\x21-\x7e]{16,4096}$/.test(token)) return { ok: false, reason: `${path} does not hold a token (16-4096 printable characters)` };
  return { ok: true, token };
}

/** Removes the file at exit if it still holds our token (a newer agent of the same name may own it). */
export async function removeAdminTokenFile(path: string, token: string): Promise<void> {
  const text = await readFile(path, 'utf8').catch(() => null);
  if (text !== null && text.trim() === token) await unlink(path).catch(() => undefined);
}

/**
 * The token a local command (swimring leave, swimring keys) sends, looked up the way the agent chose
 * it: an explicit file (flag or SWIMRING_ADMIN_TOKEN_FILE), SWIMRING_ADMIN_TOKEN, else the agent's
 * default file for the member name the agent would take from the same environment (SWIMRING_HTTP_TOKEN
 * is not an admin token). undefined: none found (the agent will answer 401).
 */
export function cliAdminToken(
  env: Readonly<Record<string, string | undefined>>,
  fileFlag?: string,
  host: () => string = hostname,
): { ok: true; token: string | undefined } | { ok: false; problem: string } {
  const explicit = fileFlag ?? env['SWIMRING_ADMIN_TOKEN_FILE'];
  if (explicit) {
    const read = readTokenSync(explicit);
    return read === null ? { ok: false, problem: `cannot read the admin token file ${explicit}` } : { ok: true, token: read };
  }
  const direct = env['SWIMRING_ADMIN_TOKEN'];
  if (direct) return { ok: true, token: direct };
  const name = env['SWIMRING_NAME'] || env['POD_NAME'] || host();
  return { ok: true, token: readTokenSync(defaultAdminTokenFile(name)) ?? undefined };
}

function readTokenSync(path: string): string | null {
  try {
    const text = readFileSync(path, 'utf8');
    return text.length <= MAX_TOKEN_FILE_BYTES && text.trim().length > 0 ? text.trim() : null;
  } catch {
    return null;
  }
}
