// The kubelet's HTTP prober, run inside the hub namespace (`ip netns exec HUB node --import tsx
// prober.ts`): it reaches the pods directly, as a kubelet on the node does, and times each probe in a
// process of its own, so a busy test process (parsing route answers) cannot turn a prompt answer into a
// timeout. Requests on stdin, one per line: "id<TAB>host:port<TAB>path<TAB>timeoutMs"; answers on
// stdout: "id<TAB>status<TAB>body" (status 0 and the error as the body when there was no answer).
import { request } from 'node:http';
import { createInterface } from 'node:readline';

const BODY_LIMIT = 512;

function answer(id: string, status: number, body: string): void {
  process.stdout.write(`${id}\t${status}\t${body.slice(0, BODY_LIMIT).replace(/[\t\n\r]/g, ' ')}\n`);
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const [id, target, path, timeout] = line.split('\t');
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(target ?? '');
  const timeoutMs = Number(timeout);
  if (!id || !m || !path?.startsWith('/') || !Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    if (id) answer(id, 0, `bad request line: ${line.slice(0, 100)}`);
    return;
  }
  let done = false;
  const finish = (status: number, body: string): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    answer(id, status, body);
  };
  const req = request({ host: m[1], port: Number(m[2]), path, method: 'GET' }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (body.length < BODY_LIMIT) body += chunk;
    });
    res.on('end', () => finish(res.statusCode ?? 0, body));
    res.on('error', (err) => finish(0, err.message));
  });
  // The kubelet's timeoutSeconds covers the whole exchange.
  const timer = setTimeout(() => {
    finish(0, `no answer in ${timeoutMs} ms`);
    req.destroy();
  }, timeoutMs);
  req.on('error', (err) => finish(0, err.message));
  req.end();
});
process.stdout.write('prober ready\n');
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
