// One cart service instance (the seed's cart actors, built on swimring-client): it owns the carts its
// member owns, takes requests for any cart and sends them to the owner through its sidecar (Apply), and
// as owner writes each change to the cart's replicas before acknowledging it, so a kill -9 of an owner
// loses no acknowledged item (the first replica becomes the owner). On SIGTERM (its sidecar is leaving
// too) it waits until it owns nothing and hands every cart it held to the cart's new owner.
//
// Environment: CART_NAME, SIDECAR_URL (its sidecar's app API), CART_HOST, CART_PORT (this app; the
// sidecar's --app-addr, and --app-handler-url http://CART_HOST:CART_PORT/apply).
// Prints `served <table version> <cart>` for each change applied as owner, `ready`, and `handed-off N`.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from '../../client/src/index.js';

const name = process.env['CART_NAME'] ?? 'cart';
const host = process.env['CART_HOST'] ?? '127.0.0.1';
const port = Number(process.env['CART_PORT'] ?? 8080);
const ring = await connect({ url: process.env['SIDECAR_URL'] ?? 'http://127.0.0.1:7948', minBackoffMs: 50, maxBackoffMs: 500 });

/** cart id -> update id -> item. Update ids make every write idempotent (retries, replicas, handoff). */
const carts = new Map<string, Map<string, string>>();

function merge(cart: string, items: readonly (readonly [string, string])[]): void {
  let c = carts.get(cart);
  if (c === undefined) carts.set(cart, (c = new Map()));
  for (const [uid, item] of items) c.set(uid, item);
}

async function body(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text;
}

function send(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

async function post(app: string, path: string, value: unknown): Promise<boolean> {
  try {
    const res = await fetch(`http://${app}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(value), signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

const server = createServer((req, res) => {
  void (async () => {
    const url = new URL(req.url ?? '/', 'http://x');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (req.method === 'POST' && parts[0] === 'apply') {
      // From a sidecar: this member owns the cart. Replicas first, then the acknowledgement.
      const cart = decodeURIComponent(String(req.headers['x-swimring-key']));
      const { uid, item } = JSON.parse(await body(req)) as { uid: string; item: string };
      // The sidecar delivered it because its table says this member owns the cart; the library may be a
      // moment behind it. Serve only once both agree, so `served` lines name the table version served at.
      for (let waited = 0; !ring.isLocal(cart) && waited < 2_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
      if (!ring.isLocal(cart)) return send(res, 503, { error: 'not the owner in this instance\'s table yet' });
      const answer = ring.route(cart);
      const replicated = await Promise.all(answer.replicas.map((r) => post(r.addresses.app, '/replica', { cart, items: [[uid, item]] })));
      if (!replicated.every(Boolean)) return send(res, 503, { error: 'a replica did not take the write' });
      merge(cart, [[uid, item]]);
      process.stdout.write(`served ${answer.version} ${cart}\n`);
      return send(res, 200, { ok: true, owner: name });
    }
    if (req.method === 'POST' && (parts[0] === 'replica' || parts[0] === 'handoff')) {
      const { cart, items } = JSON.parse(await body(req)) as { cart: string; items: [string, string][] };
      merge(cart, items);
      return send(res, 200, { ok: true });
    }
    if (req.method === 'GET' && parts[0] === 'local' && parts[1] !== undefined) {
      return send(res, 200, { items: Object.fromEntries(carts.get(parts[1]) ?? []) });
    }
    if (req.method === 'POST' && parts[0] === 'add' && parts[1] !== undefined) {
      // From the load: any instance takes it and sends it to the owner through the sidecars.
      const text = await body(req);
      const { uid, attempt } = JSON.parse(text) as { uid: string; attempt: number };
      try {
        const out = await ring.apply(parts[1], text, { requestId: `${uid}.${attempt}` });
        res.writeHead(out.status, { 'content-type': out.headers.get('content-type') ?? 'application/json' }).end(out.body);
      } catch (err) {
        send(res, 503, { error: String(err) });
      }
      return;
    }
    if (req.method === 'GET' && parts[0] === 'cart' && parts[1] !== undefined) {
      const owner = ring.route(parts[1]).owner;
      if (owner === null) return send(res, 503, { error: 'no owner' });
      try {
        const r = await fetch(`http://${owner.addresses.app}/local/${encodeURIComponent(parts[1])}`, { signal: AbortSignal.timeout(2_000) });
        return send(res, r.status, await r.json());
      } catch (err) {
        return send(res, 503, { error: String(err) });
      }
    }
    send(res, 404, { error: 'not found' });
  })().catch((err: unknown) => send(res, 500, { error: String(err) }));
});
await new Promise<void>((resolve) => server.listen(port, host, resolve));
process.stdout.write('ready\n');

process.once('SIGTERM', () => {
  void (async () => {
    // The sidecar stops serving: wait until this member owns no cart it holds, then hand each one over.
    const deadline = Date.now() + 30_000;
    while ([...carts.keys()].some((c) => ring.isLocal(c)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    let handed = 0;
    for (const [cart, items] of carts) {
      const owner = ring.route(cart).owner;
      if (owner !== null && owner.name !== ring.self?.name && (await post(owner.addresses.app, '/handoff', { cart, items: [...items] }))) handed++;
    }
    process.stdout.write(`handed-off ${handed}\n`);
    await ring.close();
    server.close();
    server.closeAllConnections();
  })();
});
