// Reading deploy/: every YAML document, and checks of Kubernetes objects against the schemas of the
// kubernetes-models package, plus a check those schemas do not make (unknown fields).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEPLOY = join(ROOT, 'deploy');
/** The Grafana dashboard, relative to ROOT. */
export const DASHBOARD = join('deploy', 'grafana', 'swimring-dashboard.json');

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface YamlDocument {
  /** Path relative to the repository root. */
  readonly file: string;
  readonly index: number;
  readonly value: Json;
}

export function listFiles(dir: string, extensions: readonly string[]): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p, extensions));
    else if (extensions.some((e) => name.endsWith(e))) out.push(p);
  }
  return out;
}

/** Every document of every .yaml/.yml file under deploy/; a syntax error, duplicate key or warning throws. */
export function loadDeployYaml(): YamlDocument[] {
  const docs: YamlDocument[] = [];
  for (const path of listFiles(DEPLOY, ['.yaml', '.yml'])) {
    const file = relative(ROOT, path);
    const parsed = parseAllDocuments(readFileSync(path, 'utf8'), { uniqueKeys: true, strict: true, prettyErrors: true });
    const list = Array.isArray(parsed) ? parsed : [parsed];
    list.forEach((doc, index) => {
      const problems = [...doc.errors, ...doc.warnings].map((e) => e.message);
      if (problems.length > 0) throw new Error(`${file} document ${index}: ${problems.join('; ')}`);
      const value = doc.toJS({ maxAliasCount: 0 }) as Json;
      if (value !== null) docs.push({ file, index, value });
    });
  }
  return docs;
}

export function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function obj(v: Json | undefined, what: string): JsonObject {
  if (!isObject(v)) throw new Error(`${what} is not an object`);
  return v;
}

export function arr(v: Json | undefined, what: string): Json[] {
  if (!Array.isArray(v)) throw new Error(`${what} is not a list`);
  return v;
}

export function str(v: Json | undefined, what: string): string {
  if (typeof v !== 'string') throw new Error(`${what} is not a string`);
  return v;
}

export function num(v: Json | undefined, what: string): number {
  if (typeof v !== 'number') throw new Error(`${what} is not a number`);
  return v;
}

export function isKubernetesObject(v: Json): v is JsonObject {
  return isObject(v) && typeof v['apiVersion'] === 'string' && typeof v['kind'] === 'string' && !v['apiVersion'].startsWith('kustomize.config.k8s.io/');
}

interface ModelClass {
  readonly prototype: { validate(this: unknown): void };
}

/** The kubernetes-models class for an apiVersion and kind, e.g. apps/v1 Deployment; null when there is none. */
export async function modelOf(apiVersion: string, kind: string): Promise<ModelClass | null> {
  if (!/^[a-z0-9.]+(\/[a-z0-9]+)?$/.test(apiVersion) || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) return null;
  // The Prometheus Operator's kinds (PodMonitor, PrometheusRule) come from their own models package.
  const from = apiVersion.startsWith('monitoring.coreos.com/') ? '@kubernetes-models/prometheus-operator' : 'kubernetes-models';
  let mod: Record<string, unknown>;
  try {
    mod = (await import(`${from}/${apiVersion}`)) as Record<string, unknown>;
  } catch {
    return null;
  }
  const cls = mod[kind];
  return typeof cls === 'function' ? (cls as unknown as ModelClass) : null;
}

/** Wraps a value so every property the validator reads is recorded as a path. */
function tracked(value: Json, path: string, seen: Set<string>): Json {
  if (typeof value !== 'object' || value === null) return value;
  return new Proxy(value, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string') return v;
      seen.add(`${path}/${prop}`);
      return tracked(v as Json, `${path}/${prop}`, seen);
    },
  });
}

function unread(value: Json, path: string, seen: ReadonlySet<string>, out: string[]): void {
  if (typeof value !== 'object' || value === null) return;
  const entries: [string, Json][] = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  for (const [key, child] of entries) {
    const p = `${path}/${key}`;
    if (!seen.has(p)) out.push(p);
    unread(child, p, seen, out);
  }
}

/**
 * Problems of one Kubernetes object: schema violations (kubernetes-models' validator throws), and
 * fields the schema does not know. The generated validators accept unknown fields (as the API server
 * does, dropping them), which would let a misspelt `publishNotReadyAdresses` pass; a field no
 * validator ever read is one the schema does not have.
 */
export async function kubernetesProblems(doc: JsonObject): Promise<string[]> {
  const apiVersion = str(doc['apiVersion'], 'apiVersion');
  const kind = str(doc['kind'], 'kind');
  const model = await modelOf(apiVersion, kind);
  if (model === null) return [`no schema for ${apiVersion} ${kind}`];
  const problems: string[] = [];
  try {
    model.prototype.validate.call(doc);
  } catch (err) {
    problems.push(err instanceof Error ? err.message : String(err));
  }
  const seen = new Set<string>();
  try {
    model.prototype.validate.call(tracked(doc, '', seen));
  } catch {
    // reported above
  }
  // apiVersion and kind are read by the model class, not its validator.
  seen.add('/apiVersion').add('/kind');
  const unknown: string[] = [];
  unread(doc, '', seen, unknown);
  for (const p of unknown) problems.push(`unknown field ${p}`);
  return problems;
}

export interface ContainerRef {
  readonly container: JsonObject;
  /** 'initContainers' for a native sidecar. */
  readonly list: 'initContainers' | 'containers';
}

export function podSpecOf(deployment: JsonObject): JsonObject {
  const spec = obj(deployment['spec'], 'spec');
  return obj(obj(spec['template'], 'spec.template')['spec'], 'spec.template.spec');
}

export function findContainer(deployment: JsonObject, name: string): ContainerRef | null {
  const pod = podSpecOf(deployment);
  for (const list of ['initContainers', 'containers'] as const) {
    const items = pod[list];
    if (!Array.isArray(items)) continue;
    for (const c of items) if (isObject(c) && c['name'] === name) return { container: c, list };
  }
  return null;
}

/** The pod the examples are rendered for: what the downward API would give the container. */
export const POD = { name: 'example-app-7d9c5-x2x8q', ip: '10.244.1.17', uid: '0b8f2f4e-6a55-4b8e-9c62-3f1d3b0e6a11', namespace: 'shop' };
export const FIELD_VALUES: Readonly<Record<string, string>> = {
  'metadata.name': POD.name,
  'status.podIP': POD.ip,
  'metadata.uid': POD.uid,
  'metadata.namespace': POD.namespace,
};

/** The Secret docs/operations.md ("Gossip key") has the operator create: one 32-byte key, base64. */
export const SECRET_VALUES: Readonly<Record<string, string>> = { 'example-app-swimring/keyring': Buffer.alloc(32, 7).toString('base64') };

/**
 * The container's environment as the kubelet builds it: Secret values, downward API values, $(VAR) of
 * earlier entries.
 */
export function containerEnv(container: JsonObject, fieldValues: Readonly<Record<string, string>> = FIELD_VALUES): Record<string, string> {
  const env: Record<string, string> = {};
  for (const item of arr(container['env'] ?? [], 'env')) {
    const e = obj(item, 'env entry');
    const name = str(e['name'], 'env name');
    const secretRef = e['valueFrom'] === undefined ? undefined : obj(e['valueFrom'], `${name}.valueFrom`)['secretKeyRef'];
    if (secretRef !== undefined) {
      const ref = obj(secretRef, `${name} secretKeyRef`);
      const value = SECRET_VALUES[`${str(ref['name'], 'secret name')}/${str(ref['key'], 'secret key')}`];
      assert.ok(value !== undefined, `${name}: unexpected secret ${JSON.stringify(ref)}`);
      env[name] = value;
    } else if (e['valueFrom'] !== undefined) {
      const path = str(obj(obj(e['valueFrom'], `${name}.valueFrom`)['fieldRef'], `${name} fieldRef`)['fieldPath'], 'fieldPath');
      const value = fieldValues[path];
      assert.ok(value !== undefined, `${name}: unexpected fieldPath ${path}`);
      env[name] = value;
    } else {
      env[name] = str(e['value'], `${name}.value`).replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, v: string) => env[v] ?? whole);
    }
  }
  return env;
}

/**
 * The objects `kubectl apply -k <dir>` would create: the kustomization's resources, files and nested
 * kustomizations, in order. Only `resources` is understood; a kustomization that patches or generates
 * anything throws, so a test never checks objects that differ from what would be applied.
 */
export function renderKustomization(dir: string, docs: readonly YamlDocument[] = loadDeployYaml()): JsonObject[] {
  const path = join(dir, 'kustomization.yaml');
  const file = relative(ROOT, path);
  const k = docs.find((d) => d.file === file);
  if (!k) throw new Error(`${file}: no kustomization`);
  const v = obj(k.value, file);
  const unsupported = Object.keys(v).filter((key) => !['apiVersion', 'kind', 'resources'].includes(key));
  if (unsupported.length > 0) throw new Error(`${file}: ${unsupported.join(', ')} not understood by this renderer; extend test/deploy/manifests.ts`);
  const out: JsonObject[] = [];
  for (const r of arr(v['resources'], `${file} resources`)) {
    const target = join(dir, str(r, 'resource'));
    if (statSync(target).isDirectory()) out.push(...renderKustomization(target, docs));
    else
      for (const d of docs.filter((doc) => doc.file === relative(ROOT, target))) {
        if (isKubernetesObject(d.value)) out.push(d.value);
      }
  }
  return out;
}
