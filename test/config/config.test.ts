import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadConfig, OPTION_DOCS, renderConfigDocs, type LoadConfigInput, type SwimringConfig } from '../../src/config.js';
import { PROFILES, SETTINGS, SETTING_NAMES } from '../../src/core/config.js';

const NO_INTERFACES = (): NodeJS.Dict<import('node:os').NetworkInterfaceInfo[]> => ({});

function load(partial: Partial<LoadConfigInput> = {}) {
  return loadConfig({
    argv: [],
    env: {},
    hostname: () => 'host-a',
    networkInterfaces: NO_INTERFACES,
    readFile: () => {
      throw new Error('no file expected');
    },
    ...partial,
  });
}

function ok(partial: Partial<LoadConfigInput> = {}): SwimringConfig {
  const r = load(partial);
  if (!r.ok) assert.fail(`expected a config, got problems:\n${r.problems.join('\n')}`);
  return r.config;
}

function problems(partial: Partial<LoadConfigInput>): string[] {
  const r = load(partial);
  if (r.ok) assert.fail('expected problems, got a config');
  return r.problems;
}

function fileWith(content: unknown): Pick<LoadConfigInput, 'readFile'> {
  return { readFile: () => JSON.stringify(content) };
}

describe('defaults', () => {
  test('match the design table', () => {
    const c = ok();
    assert.deepEqual(c.gossipAddr, { host: '0.0.0.0', port: 7946 });
    assert.deepEqual(c.grpcAddr, { host: '0.0.0.0', port: 7947 });
    assert.deepEqual(c.httpAddr, { host: '127.0.0.1', port: 7948 });
    assert.deepEqual(c.opsAddr, { host: '0.0.0.0', port: 7949 });
    assert.equal(c.name, 'host-a');
    assert.equal(c.advertiseHost, '127.0.0.1');
    assert.equal(c.appAddr, null);
    assert.equal(c.appHealth, null);
    assert.deepEqual(c.seeds, []);
    assert.equal(c.bootstrap, false);
    assert.equal(c.profile, 'lan');
    assert.equal(c.replicas, 2);
    assert.ok(c.shards >= 1);
    assert.equal(c.logLevel, 'info');
    assert.equal(c.httpToken, null);
    assert.deepEqual(c.swim, PROFILES.lan);
    assert.equal(c.settleMs, 2 * PROFILES.lan.probeIntervalMs);
  });

  test('name and advertise host come from POD_NAME and POD_IP', () => {
    const c = ok({ env: { POD_NAME: 'web-0', POD_IP: '10.1.2.3' } });
    assert.equal(c.name, 'web-0');
    assert.equal(c.advertiseHost, '10.1.2.3');
  });

  test('advertise host falls back to the first non-loopback IPv4 address', () => {
    const c = ok({
      networkInterfaces: () => ({
        lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true, netmask: '255.0.0.0', mac: '', cidr: null }],
        eth0: [
          { address: 'fe80::1', family: 'IPv6', internal: false, netmask: '', mac: '', cidr: null, scopeid: 2 },
          { address: '192.168.7.9', family: 'IPv4', internal: false, netmask: '255.255.255.0', mac: '', cidr: null },
        ],
      }),
    });
    assert.equal(c.advertiseHost, '192.168.7.9');
  });

  test('settle window follows the effective probe interval', () => {
    assert.equal(ok({ argv: ['--profile', 'local'] }).settleMs, 2 * PROFILES.local.probeIntervalMs);
    assert.equal(ok({ argv: ['--profile', 'local', '--probe-interval-ms', '300'] }).settleMs, 600);
    assert.equal(ok({ argv: ['--settle-ms', '50'] }).settleMs, 50);
  });
});

describe('precedence: flags > environment > file > defaults', () => {
  const file = fileWith({ replicas: 1, label: 'from-file', 'log-level': 'warn', shards: 128 });
  const env = { SWIMRING_CONFIG: '/etc/swimring.json', SWIMRING_REPLICAS: '3', SWIMRING_LABEL: 'from-env' };

  test('each layer wins over the ones below it', () => {
    const c = ok({ ...file, env, argv: ['--replicas', '4'] });
    assert.equal(c.replicas, 4, 'flag beats env and file');
    assert.equal(c.label, 'from-env', 'env beats file');
    assert.equal(c.logLevel, 'warn', 'file beats default');
    assert.equal(c.shards, 128);
    assert.equal(c.profile, 'lan', 'default when no layer sets it');
    assert.equal(c.configFile, '/etc/swimring.json');
  });

  test('--config on the command line beats SWIMRING_CONFIG', () => {
    const read: string[] = [];
    ok({
      env: { SWIMRING_CONFIG: '/from/env.json' },
      argv: ['--config', '/from/flag.json'],
      readFile: (p) => {
        read.push(p);
        return '{}';
      },
    });
    assert.deepEqual(read, ['/from/flag.json']);
  });

  test('an empty environment variable counts as unset', () => {
    assert.equal(ok({ ...file, env: { SWIMRING_CONFIG: '/c.json', SWIMRING_LABEL: '' } }).label, 'from-file');
  });

  test('an empty flag clears an optional value from a lower layer', () => {
    assert.equal(ok({ env: { SWIMRING_APP_ADDR: '10.0.0.1:80' }, argv: ['--app-addr='] }).appAddr, null);
  });

  test('file values may be native JSON: arrays, objects, numbers, booleans', () => {
    const c = ok({
      env: { SWIMRING_CONFIG: '/c.json' },
      ...fileWith({ seeds: ['a.svc', '10.0.0.1:9000'], tags: { zone: 'eu-1', rack: 'r7' }, bootstrap: true, 'probe-interval-ms': 2000 }),
    });
    assert.deepEqual(c.seeds, [
      { host: 'a.svc', port: 7947 },
      { host: '10.0.0.1', port: 9000 },
    ]);
    assert.deepEqual(c.tags, { zone: 'eu-1', rack: 'r7' });
    assert.equal(c.bootstrap, true);
    assert.equal(c.swim.probeIntervalMs, 2000);
  });

  test('other SWIMRING_* variables (Kubernetes service links) are ignored', () => {
    assert.ok(load({ env: { SWIMRING_SERVICE_HOST: '10.0.0.1', SWIMRING_PORT: 'tcp://10.0.0.1:7947' } }).ok);
  });
});

describe('flags', () => {
  test('--name value and --name=value both work', () => {
    assert.equal(ok({ argv: ['--name', 'a'] }).name, 'a');
    assert.equal(ok({ argv: ['--name=b'] }).name, 'b');
  });

  test('--bootstrap alone is true; =false and --no-bootstrap are false', () => {
    assert.equal(ok({ argv: ['--bootstrap'] }).bootstrap, true);
    assert.equal(ok({ argv: ['--bootstrap=false'] }).bootstrap, false);
    assert.equal(ok({ env: { SWIMRING_BOOTSTRAP: 'true' }, argv: ['--no-bootstrap'] }).bootstrap, false);
  });

  test('an unknown flag is a problem, with a suggestion when close', () => {
    const p = problems({ argv: ['--seed', 'a:1', '--frobnicate'] });
    assert.ok(p.some((s) => s.includes('unknown option --seed') && s.includes('did you mean --seeds?')), p.join('\n'));
    assert.ok(p.some((s) => s.includes('unknown option --frobnicate')), p.join('\n'));
  });

  test('a positional argument and a missing value are problems', () => {
    const p = problems({ argv: ['stray', '--label'] });
    assert.ok(p.some((s) => s.includes('unexpected argument "stray"')));
    assert.ok(p.some((s) => s.includes('--label needs a value')));
    assert.equal(p.length, 2);
  });

  test('a repeated flag: the last one wins', () => {
    assert.equal(ok({ argv: ['--shards', '16384', '--replicas', '1', '--shards', '4096'] }).shards, 4096);
  });

  test('the HTTP token is refused on the command line but taken from env and file', () => {
    const p = problems({ argv: ['--http-token', 'abcdefghijklmnop'] });
    assert.ok(p.some((s) => s.includes('--http-token is not accepted on the command line')));
    assert.ok(!p.join('\n').includes('abcdefghijklmnop'), 'the secret is not echoed');
    assert.equal(ok({ env: { SWIMRING_HTTP_TOKEN: 'abcdefghijklmnop' } }).httpToken, 'abcdefghijklmnop');
  });

  test('loopback trust is on by default; turning it off needs an HTTP token', () => {
    assert.equal(ok({}).httpTrustLoopback, true);
    assert.ok(problems({ argv: ['--http-trust-loopback=false'] }).some((s) => s.includes('set SWIMRING_HTTP_TOKEN')));
    assert.equal(ok({ argv: ['--http-trust-loopback=false'], env: { SWIMRING_HTTP_TOKEN: 'abcdefghijklmnop' } }).httpTrustLoopback, false);
  });
});

describe('every problem at once, each naming the option and its source', () => {
  test('problems from flags, environment and file are all listed', () => {
    const p = problems({
      argv: ['--shards', 'many', '--profile', 'fast', '--nope'],
      env: { SWIMRING_REPLICAS: '-1', SWIMRING_GOSSIP_ADDR: 'localhost', SWIMRING_CONFIG: '/c.json' },
      ...fileWith({ 'app-health': 'ftp://x', tags: 'a=1,b', colour: 'blue' }),
    });
    const expect: [string, string][] = [
      ['--shards', 'command line --shards'],
      ['--profile', 'command line --profile'],
      ['--replicas', 'environment SWIMRING_REPLICAS'],
      ['--gossip-addr', 'environment SWIMRING_GOSSIP_ADDR'],
      ['--app-health', 'config file /c.json, key "app-health"'],
      ['--tags', 'config file /c.json, key "tags"'],
    ];
    for (const [option, source] of expect) {
      assert.ok(p.some((s) => s.startsWith(option) && s.includes(source)), `${option} from ${source} missing in:\n${p.join('\n')}`);
    }
    assert.ok(p.some((s) => s.includes('unknown option --nope')));
    assert.ok(p.some((s) => s.includes('unknown option "colour"')));
    assert.equal(p.length, 8, p.join('\n'));
  });

  test('cross-option problems are reported together with single-field ones', () => {
    const p = problems({ argv: ['--shards', '0', '--ops-addr', '127.0.0.1:7948', '--probe-timeout-ms', '5000'] });
    assert.ok(p.some((s) => s.startsWith('--shards')));
    assert.ok(p.some((s) => s.startsWith('--ops-addr') && s.includes('clashes with --http-addr')), p.join('\n'));
    assert.ok(p.some((s) => s.startsWith('--probe-timeout-ms') && s.includes('must be below --probe-interval-ms')), p.join('\n'));
  });

  test('a bad config file is a problem, not a throw', () => {
    assert.ok(problems({ argv: ['--config', '/x'], readFile: () => '{nope' })[0]?.includes('not valid JSON'));
    assert.ok(problems({ argv: ['--config', '/x'], readFile: () => '[1]' })[0]?.includes('expected a JSON object'));
    assert.ok(
      problems({
        argv: ['--config', '/x'],
        readFile: () => {
          throw new Error('ENOENT');
        },
      })[0]?.includes('cannot read it: ENOENT'),
    );
  });
});

describe('values', () => {
  test('IPv6 addresses in brackets', () => {
    const c = ok({
      argv: ['--gossip-addr', '[::]:7946', '--grpc-addr', '[::1]:7000', '--advertise-host', '[fd00::5]', '--seeds', '[fd00::1]:7947,[fd00::2]', '--app-addr', '[fd00::5]:8080'],
    });
    assert.deepEqual(c.gossipAddr, { host: '::', port: 7946 });
    assert.deepEqual(c.grpcAddr, { host: '::1', port: 7000 });
    assert.equal(c.advertiseHost, 'fd00::5');
    assert.deepEqual(c.seeds, [
      { host: 'fd00::1', port: 7947 },
      { host: 'fd00::2', port: 7000 },
    ]);
    assert.deepEqual(c.appAddr, { host: 'fd00::5', port: 8080 });
  });

  test('IPv6 without brackets, bad ports and bad hosts are refused with a reason', () => {
    const p = problems({ argv: ['--gossip-addr', '::1:7946', '--grpc-addr', '1.2.3.4:70000', '--http-addr', '300.1.1.1:80', '--ops-addr', '[::1]x'] });
    assert.ok(p.some((s) => s.startsWith('--gossip-addr') && s.includes('brackets')), p.join('\n'));
    assert.ok(p.some((s) => s.startsWith('--grpc-addr') && s.includes('outside 0-65535')), p.join('\n'));
    assert.ok(p.some((s) => s.startsWith('--http-addr') && s.includes('not an IPv4 address')), p.join('\n'));
    assert.ok(p.some((s) => s.startsWith('--ops-addr') && s.includes('expected ":port"')), p.join('\n'));
  });

  test('app address ":PORT" means the advertise host; a wildcard is refused', () => {
    assert.deepEqual(ok({ env: { POD_IP: '10.9.8.7' }, argv: ['--app-addr', ':8080'] }).appAddr, { host: '10.9.8.7', port: 8080 });
    assert.ok(problems({ argv: ['--app-addr', '0.0.0.0:8080'] })[0]?.includes('wildcard'));
  });

  test('app health: http URL or tcp://host:port', () => {
    assert.deepEqual(ok({ argv: ['--app-health', 'http://127.0.0.1:8080/healthz'] }).appHealth, { kind: 'http', url: 'http://127.0.0.1:8080/healthz' });
    assert.deepEqual(ok({ argv: ['--app-health', 'tcp://[::1]:9000'] }).appHealth, { kind: 'tcp', host: '::1', port: 9000 });
    assert.equal(problems({ argv: ['--app-health', 'tcp://host'] }).length, 1);
  });

  test('tags: parsed, keys checked, size bounded', () => {
    assert.deepEqual(ok({ argv: ['--tags', 'zone=eu-1, tier=web'] }).tags, { zone: 'eu-1', tier: 'web' });
    assert.ok(problems({ argv: ['--tags', 'zo ne=1'] })[0]?.includes('tag key'));
    assert.ok(problems({ argv: ['--tags', 'a=1,a=2'] })[0]?.includes('given twice'));
    assert.ok(problems({ argv: ['--tags', `big=${'x'.repeat(600)}`] })[0]?.includes('the limit is 255'));
  });

  test('numbers: integers within bounds only', () => {
    for (const bad of ['0', '-3', '1.5', 'ten', '99999999']) {
      assert.equal(problems({ argv: ['--shards', bad] }).length, 1, bad);
    }
    assert.equal(ok({ argv: ['--shards', ' 256 '] }).shards, 256);
  });

  test('a non-loopback app API needs a token', () => {
    assert.ok(problems({ argv: ['--http-addr', '0.0.0.0:7948'] })[0]?.includes('SWIMRING_HTTP_TOKEN'));
    assert.deepEqual(ok({ argv: ['--http-addr', '0.0.0.0:7948'], env: { SWIMRING_HTTP_TOKEN: 't'.repeat(16) } }).httpAddr, { host: '0.0.0.0', port: 7948 });
    assert.ok(load({ argv: ['--http-addr', '[::1]:7948'] }).ok);
  });

  test('protocol overrides apply to the chosen profile', () => {
    const c = ok({ argv: ['--profile', 'wan', '--gossip-nodes', '6', '--packet-budget', '1200'] });
    assert.deepEqual(c.swim, { ...PROFILES.wan, gossipNodes: 6, packetBudget: 1200 });
  });

  test('listeners on port 0 never clash', () => {
    assert.ok(load({ argv: ['--grpc-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0', '--ops-addr', '127.0.0.1:0'] }).ok);
  });
});

describe('robustness', () => {
  test('arbitrary argv and environment never throw', () => {
    const names = OPTION_DOCS.map((d) => d.flag).filter((f) => f !== '');
    const envNames = OPTION_DOCS.map((d) => d.env);
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom(...names), fc.string(), fc.constantFrom(...names).map((n) => `${n}=`)), { maxLength: 12 }),
        fc.dictionary(fc.constantFrom(...envNames), fc.string({ maxLength: 40 })),
        fc.jsonValue(),
        (argv, env, fileValue) => {
          const r = loadConfig({ argv, env: { ...env, SWIMRING_CONFIG: '/f' }, readFile: () => JSON.stringify(fileValue) ?? 'null', hostname: () => 'h', networkInterfaces: NO_INTERFACES });
          assert.ok(r.ok || r.problems.length > 0);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('a file value that cannot become a string (found by the property below) is a problem, not a throw', () => {
    const r = loadConfig({ argv: ['--config', '/f'], env: {}, readFile: () => '{"profile": {"toString": null}}', hostname: () => 'h', networkInterfaces: NO_INTERFACES });
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.problems.some((p) => p.startsWith('--profile: expected one of lan, local, wan')), JSON.stringify(r));
  });

  test('any file value of the wrong type for any option gives problems, not a throw', () => {
    const keys = OPTION_DOCS.map((d) => d.flag.slice(2)).filter((k) => k !== '' && k !== 'config');
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...keys), fc.jsonValue()), (content) => {
        const r = loadConfig({ argv: ['--config', '/f'], env: {}, readFile: () => JSON.stringify(content), hostname: () => 'h', networkInterfaces: NO_INTERFACES });
        assert.ok(r.ok || r.problems.every((p) => typeof p === 'string' && p.length > 0));
      }),
      { numRuns: 300 },
    );
  });
});

describe('documentation', () => {
  test('every option of the design table is documented with its flag and environment name', () => {
    for (const name of ['name', 'gossip-addr', 'grpc-addr', 'advertise-host', 'http-addr', 'ops-addr', 'app-addr', 'app-health', 'seeds', 'profile', 'shards', 'replicas', 'keyring-file', 'label']) {
      const doc = OPTION_DOCS.find((d) => d.flag === `--${name}`);
      assert.ok(doc, `--${name} documented`);
      assert.equal(doc.env, `SWIMRING_${name.toUpperCase().replace(/-/g, '_')}`);
    }
  });

  test('docs/config.md is current (regenerate: node --import tsx src/config-docs.ts)', () => {
    const current = readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8');
    assert.equal(current, renderConfigDocs());
  });
});

describe('protocol options', () => {
  test('are bounded and described by the SWIM core\'s one table of settings', () => {
    for (const setting of SETTING_NAMES) {
      const { min, max, description } = SETTINGS[setting];
      const flag = `--${setting.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      const range = `expected an integer from ${min} to ${max}`;
      assert.ok(problems({ argv: [flag, String(max + 1)] }).some((p) => p.startsWith(flag) && p.includes(range)), `${flag} above ${max}`);
      assert.ok(problems({ argv: [flag, String(min - 1)] }).some((p) => p.startsWith(flag) && p.includes(range)), `${flag} below ${min}`);
      const doc = OPTION_DOCS.find((d) => d.flag === flag);
      assert.ok(doc !== undefined && doc.description.endsWith(`Range ${min} to ${max}.`), flag);
      assert.equal(doc.description.slice(0, 12), description.slice(0, 12), flag);
    }
  });
});
