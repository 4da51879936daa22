// A container without a container runtime: the constraints a Deployment puts on the swimring container,
// reproduced with Linux namespaces so `npm test` can start the shipped manifests as a kubelet would.
// - its own network namespace (loopback plus an eth0 with the pod IP) and UTS namespace (hostname = pod name);
// - its own mount namespace: every mount remounted read-only (readOnlyRootFilesystem), then a tmpfs
//   for each emptyDir volume mount;
// - the container's uid/gid (securityContext, else the image's USER), no capabilities, no_new_privs;
// - the image's ENV, then the container's env as the kubelet expands it; the image's ENTRYPOINT with the
//   container's args. The repository stands in for the image's WORKDIR: hook paths are mapped back to
//   the files the Dockerfile copies there.
// Exec probes and hooks enter the same namespaces as the same user (nsenter + setpriv).
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { copies, execForm, finalPath, readDockerfile, type Instruction } from '../deploy/dockerfile.js';
import { POD, ROOT, arr, containerEnv, isObject, num, obj, podSpecOf, str, type JsonObject } from '../deploy/manifests.js';

const execFileAsync = promisify(execFile);

/** Why the sandbox cannot be built here, or undefined when it can. */
export function sandboxSkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'the container sandbox needs Linux namespaces';
  if (process.getuid?.() !== 0) return 'the container sandbox needs root (mount and network namespaces)';
  for (const [tool, pkg] of [['unshare', 'util-linux'], ['nsenter', 'util-linux'], ['setpriv', 'util-linux'], ['ip', 'iproute2']] as const) {
    if (spawnSync(tool, ['--version']).error) return `the container sandbox needs \`${tool}\` (Debian package ${pkg}); .ci/run installs it`;
  }
  const probe = spawnSync('unshare', ['--mount', '--net', '--uts', '--', 'true']);
  if (probe.status !== 0) return `cannot create namespaces here: ${String(probe.stderr).trim()}`;
  return undefined;
}

export interface ContainerSpec {
  readonly name: string;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly uid: number;
  readonly gid: number;
  readonly readOnlyRoot: boolean;
  readonly noNewPrivs: boolean;
  readonly dropAllCapabilities: boolean;
  /** emptyDir volumes: a tmpfs at each path. */
  readonly emptyDirs: readonly { path: string; sizeBytes: number }[];
}

function quantityBytes(q: string): number {
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(q);
  if (!m) throw new Error(`size ${q}: only plain, Ki, Mi and Gi quantities are understood here`);
  return Number(m[1]) * ({ Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[m[2] ?? ''] ?? 1);
}

/** Final-stage ENV of the Dockerfile (one KEY=VALUE per instruction, as deploy/Dockerfile writes them). */
function imageEnv(insts: readonly Instruction[]): Record<string, string> {
  const last = Math.max(...insts.map((i) => i.stage));
  const env: Record<string, string> = {};
  for (const i of insts.filter((x) => x.stage === last && x.keyword === 'ENV')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(\S*)$/.exec(i.args);
    if (!m) throw new Error(`Dockerfile line ${i.line}: ENV in a form this reader does not understand`);
    env[m[1] ?? ''] = m[2] ?? '';
  }
  return env;
}

/**
 * A command as the image would run it, runnable here: `node` is this node, tini is left out when this
 * host has none (it only forwards signals and reaps), and a path the Dockerfile copies into the image is
 * the file it copies.
 */
export function hostCommand(words: readonly string[], insts: readonly Instruction[] = readDockerfile()): string[] {
  const last = Math.max(...insts.map((i) => i.stage));
  const copied = new Map<string, string>();
  for (const c of copies(insts)) if (c.stage === last && c.from === null && c.sources.length === 1) copied.set(finalPath(insts, c.dest), join(ROOT, c.sources[0] ?? ''));
  let out = [...words];
  if (out[0] === '/usr/bin/tini' && spawnSync('/usr/bin/tini', ['--version']).error) out = out.slice(out[1] === '--' ? 2 : 1);
  return out.map((w, i) => (i === 0 && w === 'node' ? process.execPath : (copied.get(w) ?? w)));
}

/** What the kubelet would run for the named container of a Deployment. */
export function containerSpecOf(deployment: JsonObject, name: string): ContainerSpec {
  const pod = podSpecOf(deployment);
  const container = [...arr(pod['initContainers'] ?? [], 'initContainers'), ...arr(pod['containers'], 'containers')].map((c) => obj(c, 'container')).find((c) => c['name'] === name);
  if (!container) throw new Error(`no container ${name}`);
  const insts = readDockerfile();
  const last = Math.max(...insts.map((i) => i.stage));
  const user = insts.filter((i) => i.stage === last && i.keyword === 'USER').pop()?.args ?? '0:0';
  const [imageUid, imageGid] = user.split(':').map(Number);
  const sc = isObject(container['securityContext']) ? container['securityContext'] : {};
  const podSc = isObject(pod['securityContext']) ? pod['securityContext'] : {};
  const uid = num(sc['runAsUser'] ?? podSc['runAsUser'] ?? imageUid ?? 0, 'runAsUser');
  const gid = num(sc['runAsGroup'] ?? podSc['runAsGroup'] ?? imageGid ?? uid, 'runAsGroup');
  const caps = isObject(sc['capabilities']) ? sc['capabilities'] : {};
  const drop = arr(caps['drop'] ?? [], 'capabilities.drop').map((c) => str(c, 'capability'));
  if (caps['add'] !== undefined || drop.some((c) => c !== 'ALL')) throw new Error('only capabilities.drop: [ALL] is reproduced here; extend test/hosts/container.ts');
  const volumes = new Map<string, JsonObject>();
  for (const v of arr(pod['volumes'] ?? [], 'volumes')) volumes.set(str(obj(v, 'volume')['name'], 'volume name'), obj(v, 'volume'));
  const emptyDirs = arr(container['volumeMounts'] ?? [], 'volumeMounts').map((m) => {
    const mount = obj(m, 'volumeMount');
    const volume = volumes.get(str(mount['name'], 'volumeMount name'));
    if (!volume || !isObject(volume['emptyDir'])) throw new Error(`volumeMount ${String(mount['name'])}: only emptyDir volumes are reproduced here`);
    const limit = volume['emptyDir']['sizeLimit'];
    return { path: str(mount['mountPath'], 'mountPath'), sizeBytes: typeof limit === 'string' ? quantityBytes(limit) : 64 * 1024 ** 2 };
  });
  const entrypoint = execForm(insts.filter((i) => i.stage === last && i.keyword === 'ENTRYPOINT').pop());
  const cmd = execForm(insts.filter((i) => i.stage === last && i.keyword === 'CMD').pop());
  const args = container['args'] !== undefined ? arr(container['args'], 'args').map((a) => str(a, 'arg')) : cmd;
  return {
    name,
    argv: hostCommand([...entrypoint, ...args], insts),
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOSTNAME: POD.name, HOME: '/', ...imageEnv(insts), ...containerEnv(container) },
    uid,
    gid,
    readOnlyRoot: sc['readOnlyRootFilesystem'] === true,
    noNewPrivs: sc['allowPrivilegeEscalation'] === false,
    dropAllCapabilities: drop.includes('ALL'),
    emptyDirs,
  };
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

function setprivArgs(spec: ContainerSpec): string[] {
  const args = ['setpriv', `--reuid=${spec.uid}`, `--regid=${spec.gid}`, '--clear-groups'];
  if (spec.dropAllCapabilities) args.push('--inh-caps=-all', '--bounding-set=-all');
  if (spec.noNewPrivs) args.push('--no-new-privs');
  return [...args, '--'];
}

export class Sandbox {
  readonly output: string[] = [];
  private exit: Promise<number | null>;

  private constructor(
    readonly spec: ContainerSpec,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => this.output.push(...d.split('\n').filter(Boolean)));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => this.output.push(...d.split('\n').filter(Boolean)));
    this.exit = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  /** Starts the container's process and waits until it runs (namespaces and mounts set up). */
  static async start(spec: ContainerSpec, podIp: string = POD.ip): Promise<Sandbox> {
    const lines = [
      'set -e',
      'ip link set lo up',
      'ip link add eth0 type veth peer name eth0-peer',
      `ip addr add ${shellQuote(`${podIp}/24`)} dev eth0`,
      'ip link set eth0-peer up',
      'ip link set eth0 up',
      `hostname ${shellQuote(POD.name)}`,
    ];
    // Every mount of this private namespace read-only; a mount that refuses (none should) stays as it
    // was, so the tests check that the root, the working directory and /tmp are really unwritable.
    if (spec.readOnlyRoot) lines.push(`awk '{print $5}' /proc/self/mountinfo | sort -u | while read -r m; do mount -o remount,bind,ro "$m" 2>/dev/null || true; done`);
    for (const d of spec.emptyDirs) {
      lines.push(`mount -t tmpfs -o size=${d.sizeBytes},mode=0777 emptydir ${shellQuote(d.path)}`);
      // A checkout under the emptyDir's path (CI may clone into /tmp) would vanish under the tmpfs: the
      // shell's working directory still is the checkout, so bind it back to its own path, read-only too
      // (--no-canonicalize: mount would otherwise resolve "." to the path, now the empty tmpfs).
      if (ROOT.startsWith(`${d.path.replace(/\/$/, '')}/`)) {
        lines.push(`mkdir -p ${shellQuote(ROOT)}`, `mount --no-canonicalize --bind . ${shellQuote(ROOT)}`);
        if (spec.readOnlyRoot) lines.push(`mount -o remount,bind,ro ${shellQuote(ROOT)}`);
      }
    }
    lines.push(`exec ${setprivArgs(spec).map(shellQuote).join(' ')} "$@"`);
    const child = spawn('unshare', ['--mount', '--net', '--uts', '--propagation', 'private', '--', 'sh', '-c', lines.join('\n'), 'sandbox', ...spec.argv], {
      cwd: ROOT,
      env: { ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const box = new Sandbox(spec, child);
    const program = spec.argv[0] ?? '';
    for (let i = 0; i < 100 && (await box.exited(0)) === 'running'; i++) {
      if (box.exe() === program) return box;
      await new Promise((r) => setTimeout(r, 50));
    }
    await box.destroy();
    throw new Error(`the sandbox did not start ${program}: ${box.output.join('\n')}`);
  }

  private exe(): string {
    try {
      return readlinkSync(`/proc/${this.pid}/exe`);
    } catch {
      return '';
    }
  }

  get pid(): number {
    const pid = this.child.pid;
    if (pid === undefined) throw new Error('the sandbox did not start');
    return pid;
  }

  /** Exit code once the process has exited; null while it runs. */
  exited(withinMs: number): Promise<number | null | 'running'> {
    return Promise.race([this.exit, new Promise<'running'>((r) => setTimeout(r, withinMs, 'running').unref())]);
  }

  /** Runs a command inside the container as the container's user (an exec probe or hook). */
  async exec(words: readonly string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
    const args = ['-t', String(this.pid), '-m', '-n', '-u', `--wd=${ROOT}`, '--', ...setprivArgs(this.spec), ...hostCommand(words)];
    try {
      const r = await execFileAsync('nsenter', args, { env: { ...this.spec.env }, timeout: timeoutMs, encoding: 'utf8' });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code?: number | string; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
    }
  }

  /** Starts a long-running command inside the container; the caller ends it by its PID. */
  spawnInside(words: readonly string[]): ChildProcess {
    const args = ['-t', String(this.pid), '-m', '-n', '-u', `--wd=${ROOT}`, '--', ...setprivArgs(this.spec), ...hostCommand(words)];
    return spawn('nsenter', args, { env: { ...this.spec.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** An HTTP GET from the pod's network (where the kubelet's probes and the app's requests come from). */
  async httpGet(port: number, path: string, method = 'GET', headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
    const script = `fetch(${JSON.stringify(`http://127.0.0.1:${port}${path}`)}, { method: ${JSON.stringify(method)}, headers: ${JSON.stringify(headers)}, signal: AbortSignal.timeout(2000) })
      .then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() })))
      .catch((e) => process.stdout.write(JSON.stringify({ status: 0, body: String(e) })));`;
    const r = await execFileAsync('nsenter', ['-t', String(this.pid), '-n', '--', process.execPath, '-e', script], { timeout: 5000, encoding: 'utf8' });
    return JSON.parse(r.stdout) as { status: number; body: string };
  }

  /** Starts a stand-in app: an HTTP server answering 200 on the port the manifests' app listens on. */
  startApp(port: number): ChildProcess {
    const script = `require('node:http').createServer((q, s) => s.end('ok')).listen(${port}, '0.0.0.0', () => process.stdout.write('listening\\n'));`;
    return spawn('nsenter', ['-t', String(this.pid), '-n', '--', process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  signal(sig: NodeJS.Signals): void {
    try {
      process.kill(this.pid, sig);
    } catch {
      // already gone
    }
  }

  /** Kills the container process if it still runs (cleanup; its namespaces go with it). */
  async destroy(): Promise<void> {
    if ((await this.exited(0)) === 'running') {
      this.signal('SIGKILL');
      await this.exit;
    }
  }

  /** The agent's JSON log lines. */
  logLines(): { level: number; msg: string; [k: string]: unknown }[] {
    const out: { level: number; msg: string }[] = [];
    for (const l of this.output) {
      try {
        const v = JSON.parse(l) as { level?: unknown; msg?: unknown };
        if (typeof v.level === 'number' && typeof v.msg === 'string') out.push(v as { level: number; msg: string });
      } catch {
        // not a log line
      }
    }
    return out;
  }
}
