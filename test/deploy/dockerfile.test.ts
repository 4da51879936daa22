// deploy/Dockerfile cannot be built here (no engine, no registry), so what can be checked is checked:
// the files it copies exist and pass its ignore file, stages are referenced in order, and it runs the
// entry point the integration tests run, as a non-root user under an init.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAIN } from '../integration/harness.js';
import { copies, DOCKERFILE, execForm, readDockerfile } from './dockerfile.js';
import { ROOT } from './manifests.js';

const insts = readDockerfile();
const froms = insts.filter((i) => i.keyword === 'FROM');
const finalStage = froms.length - 1;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin?: Record<string, string>; engines?: Record<string, string>; scripts?: Record<string, string> };

test('multi-stage from a slim Node 20 base, with a runtime stage last', () => {
  assert.ok(froms.length >= 2, 'multi-stage');
  const arg = insts.find((i) => i.keyword === 'ARG' && i.args.startsWith('NODE_IMAGE='));
  assert.match(arg?.args ?? '', /^NODE_IMAGE=node:20(\.\d+)*-[a-z]+-slim$/);
  for (const f of froms) assert.match(f.args, /^\$\{NODE_IMAGE\}( AS [a-z]+)?$/);
});

test('every file copied from the build context exists and is not excluded by the ignore file', () => {
  const allow = readFileSync(`${DOCKERFILE}.dockerignore`, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('!'))
    .map((l) => l.slice(1).replace(/\/\*\*$/, ''));
  const fromContext = copies(insts).filter((c) => c.from === null);
  assert.ok(fromContext.length > 0);
  for (const c of fromContext) {
    for (const src of c.sources) {
      assert.ok(existsSync(join(ROOT, src)), `COPY ${src}: not in the repository`);
      assert.ok(allow.some((a) => src === a || src.startsWith(`${a}/`)), `COPY ${src}: excluded by Dockerfile.dockerignore`);
    }
  }
});

test('COPY --from names an earlier stage; the runtime takes only dist/ and production node_modules', () => {
  const names = new Map(froms.map((f, i) => [/ AS ([a-z]+)$/.exec(f.args)?.[1] ?? String(i), i]));
  const fromStages = copies(insts).filter((c) => c.from !== null);
  for (const c of fromStages) {
    const stage = names.get(c.from ?? '');
    assert.ok(stage !== undefined && stage < c.stage, `COPY --from=${String(c.from)}`);
  }
  const runtimeCopies = fromStages.filter((c) => c.stage === finalStage).map((c) => `${String(c.from)}:${c.sources.join(',')}`);
  assert.deepEqual(runtimeCopies.sort(), ['build:/src/dist', 'deps:/app/node_modules']);
  const deps = insts.find((i) => i.keyword === 'RUN' && i.stage === names.get('deps'));
  assert.match(deps?.args ?? '', /npm ci --omit=dev/);
});

test('the image runs `node --v8-pool-size=1 dist/main.cjs agent` under tini, as package.json does', () => {
  const entrypoint = execForm(insts.filter((i) => i.keyword === 'ENTRYPOINT').pop());
  const cmd = execForm(insts.filter((i) => i.keyword === 'CMD').pop());
  assert.deepEqual([...entrypoint, ...cmd], ['/usr/bin/tini', '--', 'node', '--v8-pool-size=1', 'dist/main.cjs', 'agent']);
  assert.match(pkg.scripts?.['start'] ?? '', /node --v8-pool-size=1 dist\/main\.cjs agent$/);
  // The package's bin is the same file; the integration harness spawns dist/main.js, the same program
  // as an ES module (both built from src/bin.ts; test/deploy/package-files.test.ts holds them to that).
  assert.ok(MAIN.endsWith(join('dist', 'main.js')));
  assert.equal(pkg.bin?.['swimring'], 'dist/main.cjs');
  // tsc (tsconfig.build.json: src -> dist) makes dist/main.js from src/main.ts, which has the command.
  assert.match(readFileSync(join(ROOT, 'src', 'main.ts'), 'utf8'), /case 'agent':/);
  assert.ok(insts.some((i) => i.keyword === 'RUN' && /apt-get install .*\btini\b/.test(i.args)), 'tini is installed');
});

test('runs as a numeric non-root user and names the ports it listens on', () => {
  const user = insts.filter((i) => i.keyword === 'USER').pop();
  assert.ok(user && user.stage === finalStage);
  assert.match(user.args, /^[1-9]\d*:[1-9]\d*$/, 'numeric uid:gid, not root, so runAsNonRoot can check it');
  const exposed = insts.filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.args.split(/\s+/));
  assert.deepEqual(exposed.sort(), ['7946/udp', '7947/tcp', '7949/tcp']);
});

test('package.json is in the runtime stage: its "type": "module" makes dist/*.js ES modules', () => {
  assert.ok(copies(insts).some((c) => c.stage === finalStage && c.from === null && c.sources.includes('package.json')));
  assert.equal((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { type?: string }).type, 'module');
});

test('proto/ is in the image next to dist/, where PROTO_DIR (src/grpc/proto.ts) finds it: the contract for clients in other languages', () => {
  const protoCopy = copies(insts).find((c) => c.stage === finalStage && c.sources.includes('proto'));
  assert.equal(protoCopy?.dest, './proto');
  assert.match(readFileSync(join(ROOT, 'src', 'grpc', 'proto.ts'), 'utf8'), /new URL\('\.\.\/\.\.\/proto\/', import\.meta\.url\)/);
});
