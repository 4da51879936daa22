// `swimring keys list|install|use|remove|generate`: rotate the gossip keys of a running cluster through
// the local agent (GET/POST /v1/keys...), which applies the operation on every live member and reports
// per member, like `serf keys`. KEY may be "-" to read it from stdin, keeping it out of `ps` and the
// shell history. The admin token is found as for every admin command (src/http/admin-token.ts):
// --admin-token-file / SWIMRING_ADMIN_TOKEN_FILE, SWIMRING_ADMIN_TOKEN, or the agent's default token
// file.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { cliAdminToken } from '../http/admin-token.js';
import type { KeyOpSummary } from '../security/key-ops.js';
import { generateKey } from '../security/keyring-file.js';

const DEFAULT_HTTP = '127.0.0.1:7948';
const USAGE = `usage: swimring keys <list | install KEY | use KEY | remove KEY | generate> [--http-addr H:P] [--admin-token-file F] [--json]
  KEY is a base64 AES-256 key ("-" reads it from stdin); use and remove also take the key id that list shows.`;

type Out = (s: string) => void;

export async function runKeys(argv: string[], out: Out = console.log, err: Out = console.error, readStdin: () => string = () => readFileSync(0, 'utf8')): Promise<number> {
  let values: { 'http-addr'?: string | undefined; 'admin-token-file'?: string | undefined; json?: boolean | undefined };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { 'http-addr': { type: 'string' }, 'admin-token-file': { type: 'string' }, json: { type: 'boolean', default: false } },
    }));
  } catch (e) {
    err(`swimring keys: ${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
    return 2;
  }
  const [command, keyArg, ...extra] = positionals;
  if (command === 'generate' && keyArg === undefined) {
    out(generateKey());
    return 0;
  }
  const needsKey = command === 'install' || command === 'use' || command === 'remove';
  if (!(command === 'list' || needsKey) || (needsKey ? keyArg === undefined : keyArg !== undefined) || extra.length > 0) {
    err(USAGE);
    return 2;
  }
  const found = cliAdminToken(process.env, values['admin-token-file']);
  if (!found.ok) {
    err(`swimring keys: ${found.problem}`);
    return 2;
  }
  const token = found.token;
  const httpAddr = values['http-addr'] ?? process.env.SWIMRING_HTTP_ADDR ?? DEFAULT_HTTP;
  const key = keyArg === '-' ? readStdin().trim() : keyArg;
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res =
      command === 'list'
        ? await fetch(`http://${httpAddr}/v1/keys`, { headers, signal: AbortSignal.timeout(30_000) })
        : await fetch(`http://${httpAddr}/v1/keys/${command}`, {
            method: 'POST',
            headers: { ...headers, 'content-type': 'application/json' },
            body: JSON.stringify({ key }),
            signal: AbortSignal.timeout(30_000),
          });
  } catch (e) {
    err(`swimring keys: cannot reach the agent at ${httpAddr}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const message = (body as { error?: { message?: string } } | null)?.error?.message ?? `HTTP ${res.status}`;
    err(`swimring keys ${command}: the agent refused: ${message}`);
    return 1;
  }
  const summary = body as KeyOpSummary;
  if (values.json) out(JSON.stringify(summary, null, 2));
  else out(formatSummary(summary));
  return summary.failures.length === 0 ? 0 : 1;
}

const VERB: Record<KeyOpSummary['op'], string> = { list: 'Listed keys', install: 'Installed the key', use: 'Made the key primary', remove: 'Removed the key' };

export function formatSummary(s: KeyOpSummary): string {
  const lines = [`${VERB[s.op]} on ${s.succeeded}/${s.members} members`];
  for (const f of s.failures) lines.push(`  failed on ${f.member}: ${f.error}`);
  if (s.op === 'list' || s.failures.length > 0) {
    lines.push('', 'KEY ID            MEMBERS  PRIMARY ON');
    for (const k of s.keys) lines.push(`${k.id.padEnd(16)}  ${`${k.members}/${s.members}`.padEnd(7)}  ${k.primary}`);
  }
  return lines.join('\n');
}
