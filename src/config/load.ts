// Gathers raw option values from their four sources, layers them (flags > environment > config file >
// defaults) and parses the result with the schema, reporting every problem at once with where the bad
// value came from.
import { readFileSync } from 'node:fs';
import { hostname as osHostname, networkInterfaces as osNetworkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { configSchema, type ConfigKey, type SwimringConfig } from './schema.js';
import { CONFIG_KEYS, OPTIONS, envOf, fileKeyOf, flagName, type DefaultContext } from './options.js';

export interface LoadConfigInput {
  /** Options only (the command word already removed). */
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Reads the config file; defaults to fs.readFileSync(path, 'utf8'). */
  readonly readFile?: (path: string) => string;
  /** Defaults to os.hostname(). */
  readonly hostname?: () => string;
  /** Defaults to os.networkInterfaces(). */
  readonly networkInterfaces?: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
}

export type LoadConfigResult =
  | { readonly ok: true; readonly config: SwimringConfig }
  | { readonly ok: false; readonly problems: string[] };

type Source =
  | { readonly kind: 'flag'; readonly flag: string }
  | { readonly kind: 'env'; readonly name: string }
  | { readonly kind: 'file'; readonly path: string; readonly key: string }
  | { readonly kind: 'default' };

interface RawValue {
  readonly value: unknown;
  readonly source: Source;
}

/** A config file bigger than this is surely not one. */
const MAX_CONFIG_FILE_CHARS = 1 << 20;

const BY_FLAG = new Map<string, ConfigKey>(CONFIG_KEYS.map((k) => [flagName(k), k]));
const BY_FILE_KEY = new Map<string, ConfigKey>(CONFIG_KEYS.map((k) => [fileKeyOf(k), k]));

function describe(source: Source): string {
  switch (source.kind) {
    case 'flag':
      return `command line ${source.flag}`;
    case 'env':
      return `environment ${source.name}`;
    case 'file':
      return `config file ${source.path}, key "${source.key}"`;
    case 'default':
      return 'default';
  }
}

function show(value: unknown, secret: boolean): string {
  if (secret) return '(redacted)';
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

function suggestion(unknown: string, known: Iterable<string>): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(unknown, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best === undefined ? '' : ` (did you mean ${best}?)`;
}

function parseArgv(argv: readonly string[], problems: string[]): Map<ConfigKey, RawValue> {
  const out = new Map<ConfigKey, RawValue>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) {
      problems.push(`unexpected argument ${JSON.stringify(arg)}: options are written --name value or --name=value`);
      continue;
    }
    const eq = arg.indexOf('=');
    let flag = eq >= 0 ? arg.slice(0, eq) : arg;
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined;
    let key = BY_FLAG.get(flag);
    if (key === undefined && flag.startsWith('--no-') && value === undefined) {
      // --no-bootstrap: the one spelling of false for a boolean that needs no value
      const positive = BY_FLAG.get(`--${flag.slice(5)}`);
      if (positive === 'bootstrap') {
        key = positive;
        flag = `--${flag.slice(5)}`;
        value = 'false';
      }
    }
    if (key === undefined) {
      problems.push(`unknown option ${flag}${suggestion(flag, BY_FLAG.keys())}`);
      if (value === undefined && i + 1 < argv.length && !(argv[i + 1] ?? '').startsWith('--')) i++;
      continue;
    }
    if (OPTIONS[key].flag === false) {
      problems.push(`${flag} is not accepted on the command line (it would show in ps); set ${envOf(key)} or "${fileKeyOf(key)}" in the config file`);
      if (value === undefined && i + 1 < argv.length) i++;
      continue;
    }
    if (value === undefined) {
      if (key === 'bootstrap') value = 'true';
      else if (i + 1 < argv.length) value = argv[++i] ?? '';
      else {
        problems.push(`${flag} needs a value`);
        continue;
      }
    }
    // A repeated flag: the last one wins, so wrappers can append overrides to a base command line.
    out.set(key, { value, source: { kind: 'flag', flag } });
  }
  return out;
}

function fromEnv(env: Readonly<Record<string, string | undefined>>): Map<ConfigKey, RawValue> {
  const out = new Map<ConfigKey, RawValue>();
  for (const key of CONFIG_KEYS) {
    const name = envOf(key);
    const value = env[name];
    // An empty variable counts as unset: templates often render absent values that way.
    if (value !== undefined && value !== '') out.set(key, { value, source: { kind: 'env', name } });
  }
  return out;
}

function fromFile(path: string, readFile: (p: string) => string, problems: string[]): Map<ConfigKey, RawValue> {
  const out = new Map<ConfigKey, RawValue>();
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    problems.push(`config file ${path}: cannot read it: ${err instanceof Error ? err.message : String(err)}`);
    return out;
  }
  if (text.length > MAX_CONFIG_FILE_CHARS) {
    problems.push(`config file ${path}: larger than ${MAX_CONFIG_FILE_CHARS} characters`);
    return out;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    problems.push(`config file ${path}: not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
    return out;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push(`config file ${path}: expected a JSON object of options`);
    return out;
  }
  for (const [fileKey, value] of Object.entries(parsed)) {
    const key = BY_FILE_KEY.get(fileKey);
    if (key === undefined || OPTIONS[key].file === false) {
      problems.push(`config file ${path}: unknown option "${fileKey}"${suggestion(fileKey, BY_FILE_KEY.keys())}`);
      continue;
    }
    out.set(key, { value, source: { kind: 'file', path, key: fileKey } });
  }
  return out;
}

function firstIPv4(interfaces: () => NodeJS.Dict<NetworkInterfaceInfo[]>): () => string | undefined {
  return () => {
    const all = interfaces();
    for (const name of Object.keys(all).sort()) {
      for (const info of all[name] ?? []) {
        if (info.family === 'IPv4' && !info.internal) return info.address;
      }
    }
    return undefined;
  };
}

export function loadConfig(input: LoadConfigInput): LoadConfigResult {
  const problems: string[] = [];
  const flags = parseArgv(input.argv, problems);
  const env = fromEnv(input.env);

  const fileEntry = flags.get('configFile') ?? env.get('configFile');
  const filePath = typeof fileEntry?.value === 'string' && fileEntry.value !== '' ? fileEntry.value : undefined;
  const file = filePath === undefined ? new Map<ConfigKey, RawValue>() : fromFile(filePath, input.readFile ?? ((p) => readFileSync(p, 'utf8')), problems);

  const ctx: DefaultContext = {
    env: input.env,
    hostname: input.hostname ?? osHostname,
    firstIPv4: firstIPv4(input.networkInterfaces ?? osNetworkInterfaces),
  };
  const layered = new Map<ConfigKey, RawValue>();
  const raw: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    let entry = flags.get(key) ?? env.get(key) ?? file.get(key);
    if (entry === undefined) {
      const def = OPTIONS[key].default;
      if (def !== undefined) entry = { value: typeof def === 'function' ? def(ctx) : def, source: { kind: 'default' } };
    }
    if (entry !== undefined) {
      layered.set(key, entry);
      raw[key] = entry.value;
    }
  }

  // Parsed once per process: zod's compiled fast path for objects would cost more to generate (code made
  // with new Function, which no code cache holds) than it saves on a single parse.
  const result = configSchema.safeParse(raw, { jitless: true });
  if (result.success && problems.length === 0) return { ok: true, config: result.data };
  for (const issue of result.error?.issues ?? []) {
    const [head, ...rest] = issue.path;
    const key = CONFIG_KEYS.find((k) => k === head);
    if (key === undefined) {
      problems.push(issue.message);
      continue;
    }
    const entry = layered.get(key);
    const where = rest.length > 0 ? `[${rest.map(String).join('.')}]` : '';
    const given = entry === undefined ? 'not set' : `${show(entry.value, OPTIONS[key].secret === true)} from ${describe(entry.source)}`;
    problems.push(`${flagName(key)}${where}: ${issue.message} (${given})`);
  }
  return { ok: false, problems };
}
