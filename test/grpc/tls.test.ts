// Control-plane TLS and mutual TLS with certificates made at run time by openssl: who is let in, who is
// refused, and how rotated files reach new connections while a bad file keeps the old material.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { ControlPlaneClient } from '../../src/grpc/client.js';
import { startControlPlaneServer, type ControlPlaneServer } from '../../src/grpc/server.js';
import { clientTls, loadTlsMaterial, serverCredentials, TlsFiles, type TlsFileOptions } from '../../src/grpc/tls.js';
import { member } from './helpers.js';
import { hasOpenssl, TestPki } from './tls-certs.js';

const skip = hasOpenssl() ? false : 'the openssl binary is needed to make test certificates';
const NO_POLL = 3_600_000;

describe('control plane TLS', { skip }, () => {
  let pki: TestPki;
  const open: { close(): unknown }[] = [];
  const servers: ControlPlaneServer[] = [];

  before(() => {
    pki = new TestPki();
    pki.makeLeaf('server', 'member-a', 'IP:127.0.0.1,DNS:swimring.test');
    pki.makeLeaf('client', 'member-b', 'IP:127.0.0.1,DNS:swimring.test');
    pki.makeLeaf('named', 'member-n', 'DNS:swimring.test');
    pki.makeCa('rogue-ca');
    pki.makeLeaf('rogue', 'member-x', 'IP:127.0.0.1', 'rogue-ca');
  });
  after(async () => {
    for (const o of open) o.close();
    await Promise.all(servers.map((s) => s.close()));
    pki.cleanup();
  });

  function files(leaf: string, ca: string | null = 'ca', extra: Partial<TlsFileOptions> = {}): TlsFiles {
    const t = new TlsFiles({ certFile: pki.path(`${leaf}.crt`), keyFile: pki.path(`${leaf}.key`), caFile: ca === null ? null : pki.path(`${ca}.crt`), pollMs: NO_POLL, ...extra });
    open.push(t);
    return t;
  }

  async function server(tls: TlsFiles): Promise<string> {
    const s = await startControlPlaneServer({
      bind: '127.0.0.1:0',
      credentials: serverCredentials(tls),
      handlers: {
        negotiate: () => [member(0)],
        closing: () => undefined,
        ping: () => ({ name: 'member-a', members: 1, healthScore: 0, tableVersion: 'v' }),
      },
    });
    servers.push(s);
    return `127.0.0.1:${s.port}`;
  }

  function client(tls: TlsFiles | null, serverName: string | null = null): ControlPlaneClient {
    const c = new ControlPlaneClient({ tls: clientTls(tls, serverName) });
    open.push(c);
    return c;
  }

  /** The serial number of the certificate the server presents to a fresh connection. */
  function servedSerial(addr: string, clientLeaf = 'client'): Promise<string> {
    const [host, port] = [addr.slice(0, addr.lastIndexOf(':')), Number(addr.slice(addr.lastIndexOf(':') + 1))];
    return new Promise((resolve, reject) => {
      const socket = connect({
        host,
        port,
        ca: readFileSync(pki.path('ca.crt')),
        cert: readFileSync(pki.path(`${clientLeaf}.crt`)),
        key: readFileSync(pki.path(`${clientLeaf}.key`)),
        ALPNProtocols: ['h2'],
        servername: 'swimring.test',
      });
      socket.once('secureConnect', () => {
        const serial = socket.getPeerCertificate().serialNumber;
        socket.destroy();
        resolve(serial);
      });
      socket.once('error', reject);
    });
  }

  test('mutual TLS: a peer with a certificate from the CA is served', async () => {
    const addr = await server(files('server'));
    const reply = await client(files('client')).ping(addr, 5000);
    assert.equal(reply.name, 'member-a');
  });

  test('mutual TLS: a peer without a client certificate is refused', async () => {
    const addr = await server(files('server'));
    const noIdentity = new ControlPlaneClient({ tls: { credentials: grpc.credentials.createSsl(readFileSync(pki.path('ca.crt'))), channelOptions: {} } });
    open.push(noIdentity);
    await assert.rejects(noIdentity.ping(addr, 5000), (err: Error & { code?: number }) => err.code === grpc.status.UNAVAILABLE);
  });

  test('mutual TLS: a peer whose certificate another CA signed is refused', async () => {
    const addr = await server(files('server'));
    const rogue = new ControlPlaneClient({
      tls: {
        credentials: grpc.credentials.createSsl(readFileSync(pki.path('ca.crt')), readFileSync(pki.path('rogue.key')), readFileSync(pki.path('rogue.crt'))),
        channelOptions: {},
      },
    });
    open.push(rogue);
    await assert.rejects(rogue.ping(addr, 5000), (err: Error & { code?: number }) => err.code === grpc.status.UNAVAILABLE);
  });

  test('a plaintext peer is refused by a TLS server', async () => {
    const addr = await server(files('server'));
    await assert.rejects(client(null).ping(addr, 5000), (err: Error & { code?: number }) => err.code === grpc.status.UNAVAILABLE);
  });

  test('the client verifies the server: a server with a certificate from another CA is refused', async () => {
    const addr = await server(files('rogue', 'rogue-ca'));
    await assert.rejects(client(files('client')).ping(addr, 5000), (err: Error & { code?: number }) => err.code === grpc.status.UNAVAILABLE);
  });

  test('--tls-server-name: a member addressed by IP with a certificate naming only a DNS name', async () => {
    const addr = await server(files('named'));
    await assert.rejects(client(files('client')).ping(addr, 5000), 'the dialed IP is not in the certificate');
    const reply = await client(files('client'), 'swimring.test').ping(addr, 5000);
    assert.equal(reply.name, 'member-a');
  });

  test('a CA-less server encrypts without asking callers for certificates', async () => {
    const tls = files('server', null);
    assert.equal(tls.requireClientCertificate, false);
    const addr = await server(tls);
    // The caller trusts our CA explicitly (system roots would not know it) and presents nothing.
    const anon = new ControlPlaneClient({ tls: { credentials: grpc.credentials.createSsl(readFileSync(pki.path('ca.crt'))), channelOptions: {} } });
    open.push(anon);
    assert.equal((await anon.ping(addr, 5000)).name, 'member-a');
  });

  test('rotated files reach new connections; a bad file keeps the old material and is reported', async () => {
    const dir = pki.path('rotate');
    mkdirSync(dir);
    const certFile = join(dir, 'tls.crt');
    const keyFile = join(dir, 'tls.key');
    copyFileSync(pki.path('server.crt'), certFile);
    copyFileSync(pki.path('server.key'), keyFile);
    const reports: string[] = [];
    const tls = files('server', 'ca', { certFile, keyFile, onReload: (result) => reports.push(result) });
    const addr = await server(tls);
    const c = client(files('client'));
    const before = await servedSerial(addr);
    assert.equal((await c.ping(addr, 5000)).name, 'member-a');

    // A certificate without its key (the middle of a non-atomic rotation): refused, old one kept.
    pki.makeLeaf('server2', 'member-a', 'IP:127.0.0.1,DNS:swimring.test');
    copyFileSync(pki.path('server2.crt'), certFile);
    assert.equal(tls.check(), 'failed');
    assert.equal(tls.check(), 'unchanged', 'an unchanged bad file is reported once');
    assert.equal(await servedSerial(addr), before);
    // Garbage is refused the same way.
    writeFileSync(keyFile, 'not a key');
    assert.equal(tls.check(), 'failed');
    assert.equal(await servedSerial(addr), before);

    copyFileSync(pki.path('server2.key'), keyFile);
    assert.equal(tls.check(), 'reloaded');
    const afterSerial = await servedSerial(addr);
    assert.notEqual(afterSerial, before);
    assert.equal(afterSerial, new (await import('node:crypto')).X509Certificate(readFileSync(pki.path('server2.crt'))).serialNumber);
    assert.deepEqual(reports, ['failed', 'failed', 'reloaded']);
    // Calls keep working across the rotation.
    assert.equal((await client(files('client')).ping(addr, 5000)).name, 'member-a');
  });

  test('a Kubernetes-style ..data symlink swap is noticed by the directory watch', async () => {
    // Kubernetes: tls.crt -> ..data/tls.crt, ..data -> ..<timestamp>/; an update swaps ..data.
    const dir = pki.path('k8s');
    mkdirSync(join(dir, '..v1'), { recursive: true });
    mkdirSync(join(dir, '..v2'));
    copyFileSync(pki.path('server.crt'), join(dir, '..v1', 'tls.crt'));
    copyFileSync(pki.path('server.key'), join(dir, '..v1', 'tls.key'));
    pki.makeLeaf('server3', 'member-a', 'IP:127.0.0.1,DNS:swimring.test');
    copyFileSync(pki.path('server3.crt'), join(dir, '..v2', 'tls.crt'));
    copyFileSync(pki.path('server3.key'), join(dir, '..v2', 'tls.key'));
    symlinkSync('..v1', join(dir, '..data'));
    symlinkSync('..data/tls.crt', join(dir, 'tls.crt'));
    symlinkSync('..data/tls.key', join(dir, 'tls.key'));
    let resolveReload!: (r: string) => void;
    const reloaded = new Promise<string>((r) => (resolveReload = r));
    const tls = files('server', 'ca', { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key'), settleMs: 20, onReload: (r) => resolveReload(r) });
    const first = tls.certificate;
    symlinkSync('..v2', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    assert.equal(await reloaded, 'reloaded');
    assert.notDeepEqual(tls.certificate, first);
    assert.deepEqual(tls.certificate, readFileSync(pki.path('server3.crt')));
  });

  test('loadTlsMaterial refuses a key that does not match the certificate, naming the files', () => {
    assert.throws(
      () => loadTlsMaterial({ certFile: pki.path('server.crt'), keyFile: pki.path('client.key'), caFile: pki.path('ca.crt') }),
      /TLS files refused .*server\.crt/,
    );
    assert.throws(() => loadTlsMaterial({ certFile: pki.path('missing.crt'), keyFile: pki.path('client.key'), caFile: null }), /ENOENT/);
  });
});
