// The agent's keyring at start-up: read from --keyring-file or SWIMRING_KEYRING, refused as a
// configuration problem (exit 2) when unreadable or malformed. Problems and logs name the source and key
// ids, never key text.
import type { Logger } from 'pino';
import { LocalKeyring } from './key-ops.js';
import { loadKeyringSource } from './keyring-file.js';
import { Keyring } from './keyring.js';

export type LoadedKeyring =
  | { readonly ok: true; readonly local: ((logger: Logger) => LocalKeyring) | null }
  | { readonly ok: false; readonly problem: string };

export function loadLocalKeyring(file: string | null, env: NodeJS.ProcessEnv): LoadedKeyring {
  const loaded = loadKeyringSource(file, env);
  if (!loaded.ok) return { ok: false, problem: loaded.problem };
  const source = loaded.source;
  if (source === null) return { ok: true, local: null };
  return {
    ok: true,
    local: (logger) => {
      const keyring = new Keyring(source.keys);
      const primary = keyring.list()[0]?.id;
      logger.info({ keys: keyring.size, primary, source: source.file ?? 'SWIMRING_KEYRING' }, 'gossip encryption keyring loaded');
      // The shipped manifests take the keyring from a Secret this way: a fact to note, not a problem.
      if (source.file === null) logger.info('keys from SWIMRING_KEYRING: rotations made with `swimring keys` last until the process restarts (update the Secret too)');
      return new LocalKeyring(keyring, source.file, (message) => logger.error(message));
    },
  };
}
