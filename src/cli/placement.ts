// `swimring placement`: placement answers without a running agent, from a member list. Users debug
// placement with it; clients in other languages check their own implementation against its --json.
import { readFile, stat } from 'node:fs/promises';
import {
  buildTable,
  DEFAULT_REPLICAS,
  DEFAULT_SHARDS,
  DEFAULT_VNODES,
  memberNameProblem,
  type PlacementTable,
} from '../placement/index.js';

export const PLACEMENT_USAGE = `usage: swimring placement --members NAME,NAME,... [--shards N] [--replicas R]
                          [--keys K1,K2,... | --keys-file FILE] [--stats] [--json]
                          [--vnodes V] [--bounded-load C]

Computes placement without a running agent: for each key its shard, owner and replicas.

  --members LIST     comma-separated member names (the members that own shards)
  --shards N         shard count, as configured on the agents (default ${DEFAULT_SHARDS})
  --replicas R       replicas listed after the owner (default ${DEFAULT_REPLICAS})
  --keys LIST        comma-separated keys
  --keys-file FILE   keys, one per line (UTF-8; a trailing \\r is dropped; blank lines are skipped)
  --stats            shards per member, and max/mean and min/mean
  --json             one JSON object: {"version", "routes": [{"key", "shard", "owner", "replicas"}], "stats"}
  --vnodes V         ring points per member, a power of two (default ${DEFAULT_VNODES}; agents use the default)
  --bounded-load C   bounded-load factor >= 1 (default off; agents use the default)

Exit status: 0 on success, 2 on bad input.`;

/** Bounds on what the command reads, so a wrong file name cannot exhaust memory. */
const MAX_KEYS_FILE_BYTES = 256 * 1024 * 1024;
const MAX_KEYS = 10_000_000;
const MAX_ARG_MEMBERS = 100_000;

interface Args {
  members: string[];
  shards: number;
  replicas: number;
  vnodes: number;
  boundedLoad: number | null;
  keys: string[] | null;
  keysFile: string | null;
  stats: boolean;
  json: boolean;
  help: boolean;
}

class UsageError extends Error {}

const VALUE_FLAGS = new Set(['--members', '--shards', '--replicas', '--keys', '--keys-file', '--vnodes', '--bounded-load']);
const BOOLEAN_FLAGS = new Set(['--stats', '--json', '--help', '-h']);

function parseInteger(flag: string, text: string, min: number, max: number): number {
  if (!/^[0-9]{1,10}$/.test(text)) throw new UsageError(`${flag}: expected a whole number, got ${JSON.stringify(text)}`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`${flag}: must be from ${min} to ${max}, got ${n}`);
  return n;
}

function parseArgs(argv: readonly string[]): Args {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    if (VALUE_FLAGS.has(name)) {
      const value = name === arg ? argv[++i] : arg.slice(eq + 1);
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      if (values.has(name)) throw new UsageError(`${name} given twice`);
      values.set(name, value);
    } else if (BOOLEAN_FLAGS.has(arg)) {
      flags.add(arg === '-h' ? '--help' : arg);
    } else {
      throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  const help = flags.has('--help');
  const membersText = values.get('--members');
  if (membersText === undefined && !help) throw new UsageError('--members is required');
  const members = membersText === undefined ? [] : membersText.split(',');
  if (members.length > MAX_ARG_MEMBERS) throw new UsageError(`--members: at most ${MAX_ARG_MEMBERS} names`);
  for (const name of members) {
    const problem = memberNameProblem(name);
    if (problem !== null) throw new UsageError(`--members: ${problem}`);
  }
  const keysText = values.get('--keys');
  const keysFile = values.get('--keys-file') ?? null;
  if (keysText !== undefined && keysFile !== null) throw new UsageError('give --keys or --keys-file, not both');
  const boundedText = values.get('--bounded-load');
  let boundedLoad: number | null = null;
  if (boundedText !== undefined) {
    if (!/^[0-9]+(\.[0-9]+)?$/.test(boundedText)) throw new UsageError(`--bounded-load: expected a number such as 1.25, got ${JSON.stringify(boundedText)}`);
    boundedLoad = Number(boundedText);
  }
  return {
    members,
    shards: values.has('--shards') ? parseInteger('--shards', values.get('--shards')!, 1, 0x7fffffff) : DEFAULT_SHARDS,
    replicas: values.has('--replicas') ? parseInteger('--replicas', values.get('--replicas')!, 0, 1000) : DEFAULT_REPLICAS,
    vnodes: values.has('--vnodes') ? parseInteger('--vnodes', values.get('--vnodes')!, 1, 0x7fffffff) : DEFAULT_VNODES,
    boundedLoad,
    keys: keysText === undefined ? null : keysText.split(','),
    keysFile,
    stats: flags.has('--stats'),
    json: flags.has('--json'),
    help,
  };
}

async function readKeys(file: string): Promise<string[]> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (err) {
    throw new UsageError(`--keys-file: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (size > MAX_KEYS_FILE_BYTES) throw new UsageError(`--keys-file: ${file} is ${size} bytes, more than the ${MAX_KEYS_FILE_BYTES} accepted`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--keys-file: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const keys: string[] = [];
  for (const line of text.split('\n')) {
    const key = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (key.length === 0) continue;
    if (keys.length === MAX_KEYS) throw new UsageError(`--keys-file: more than ${MAX_KEYS} keys`);
    keys.push(key);
  }
  return keys;
}

export interface PlacementStats {
  /** Shards owned per member. */
  members: Record<string, number>;
  shards: number;
  max_over_mean: number;
  min_over_mean: number;
}

export function placementStats(table: PlacementTable): PlacementStats {
  const members = table.shardsPerMember();
  const counts = Object.values(members);
  const mean = counts.length === 0 ? 0 : table.shards / counts.length;
  return {
    members,
    shards: table.shards,
    max_over_mean: mean === 0 ? 0 : Math.max(...counts) / mean,
    min_over_mean: mean === 0 ? 0 : Math.min(...counts) / mean,
  };
}

interface Route {
  key: string;
  shard: number;
  owner: string | null;
  replicas: readonly string[];
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

function writeText(table: PlacementTable, routes: readonly Route[], stats: PlacementStats | null, out: (s: string) => void): void {
  out(
    `version ${table.version}  members ${table.members.length}  shards ${table.shards}  replicas ${table.replicas}  vnodes ${table.vnodes}` +
      (table.boundedLoad === null ? '' : `  bounded-load ${table.boundedLoad}`) +
      '\n',
  );
  if (routes.length > 0) {
    const keyWidth = Math.min(40, Math.max(3, ...routes.map((r) => JSON.stringify(r.key).length)));
    const ownerWidth = Math.max(5, ...routes.map((r) => (r.owner ?? '-').length));
    const lines = [`${pad('key', keyWidth)}  ${pad('shard', 7)}  ${pad('owner', ownerWidth)}  replicas`];
    for (const r of routes) {
      lines.push(`${pad(JSON.stringify(r.key), keyWidth)}  ${pad(String(r.shard), 7)}  ${pad(r.owner ?? '-', ownerWidth)}  ${r.replicas.join(',') || '-'}`);
      if (lines.length >= 10_000) out(lines.splice(0).join('\n') + '\n');
    }
    out(lines.join('\n') + '\n');
  }
  if (stats !== null) {
    const names = Object.keys(stats.members);
    const mean = names.length === 0 ? 0 : stats.shards / names.length;
    const width = Math.max(6, ...names.map((n) => n.length));
    const lines = [`${pad('member', width)}  ${pad('shards', 8)}  share/mean`];
    for (const name of names) {
      const count = stats.members[name]!;
      lines.push(`${pad(name, width)}  ${pad(String(count), 8)}  ${(count / mean).toFixed(4)}`);
    }
    lines.push(`max/mean ${stats.max_over_mean.toFixed(4)}  min/mean ${stats.min_over_mean.toFixed(4)}  (mean ${mean.toFixed(2)} shards)`);
    out(lines.join('\n') + '\n');
  }
}

function writeJson(table: PlacementTable, routes: readonly Route[], stats: PlacementStats, out: (s: string) => void): void {
  out(
    JSON.stringify({
      version: table.version,
      shards: table.shards,
      replicas: table.replicas,
      vnodes: table.vnodes,
      bounded_load: table.boundedLoad,
      members: table.members,
      routes,
      stats,
    }) + '\n',
  );
}

/**
 * Runs `swimring placement` with the arguments after the command name. Returns the exit status:
 * 0 on success, 2 on bad input (with the reason written to `err`).
 */
export async function runPlacement(
  argv: string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = (s) => process.stderr.write(s),
): Promise<number> {
  let args: Args;
  let keys: string[];
  let table: PlacementTable;
  try {
    args = parseArgs(argv);
    if (args.help) {
      out(PLACEMENT_USAGE + '\n');
      return 0;
    }
    keys = args.keysFile !== null ? await readKeys(args.keysFile) : (args.keys ?? []);
    table = buildTable(args.members, { shards: args.shards, replicas: args.replicas, vnodes: args.vnodes, boundedLoad: args.boundedLoad });
  } catch (e) {
    if (e instanceof UsageError || e instanceof RangeError) {
      err(`swimring placement: ${e.message}\n${PLACEMENT_USAGE}\n`);
      return 2;
    }
    throw e;
  }
  const routes: Route[] = keys.map((key) => {
    const shard = table.shardOf(key);
    return { key, shard, owner: table.ownerOf(shard), replicas: table.replicasOf(shard) };
  });
  const stats = placementStats(table);
  if (args.json) writeJson(table, routes, stats, out);
  else writeText(table, routes, args.stats ? stats : null, out);
  return 0;
}
