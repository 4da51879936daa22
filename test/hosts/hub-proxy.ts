// Runs inside the hub namespace (`ip netns exec HUB node --import tsx hub-proxy.ts SOCKET`). The test
// process stays in the host's namespace, where the members' /24 does not exist; a Unix socket is a
// file, so it crosses namespaces. A request for "/<ip>:<port>/<path>" is forwarded to that member
// and the answer streamed back (watch streams included).
import { createServer, request } from 'node:http';
import { rmSync } from 'node:fs';

const socketPath = process.argv[2];
if (!socketPath) {
  console.error('usage: hub-proxy.ts SOCKET');
  process.exit(2);
}

const TARGET = /^\/(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})(\/.*)$/;

const server = createServer((req, res) => {
  const m = TARGET.exec(req.url ?? '');
  if (!m) {
    res.writeHead(400, { 'content-type': 'text/plain' }).end('expected /<ip>:<port>/<path>');
    return;
  }
  const upstream = request(
    { host: m[1], port: Number(m[2]), path: m[3], method: req.method, headers: { ...req.headers, host: `${m[1]}:${m[2]}` } },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', (err) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(`upstream: ${err.message}`);
    else res.destroy();
  });
  // The test side decides how long to wait; when it gives up, give up upstream too.
  res.on('close', () => upstream.destroy());
  req.pipe(upstream);
});

rmSync(socketPath, { force: true });
server.listen(socketPath, () => {
  process.stdout.write('hub-proxy ready\n');
});
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
