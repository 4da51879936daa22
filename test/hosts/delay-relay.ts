// Runs inside the hub namespace: this kernel has no netem, so link delay comes from userspace. For each
// member, one UDP socket and one TCP listener on the member's advertised (relay) address forward to
// its real address after a random delay. Peers send to the advertised address and replies go to the
// sender's advertised address (SWIM acks use the ping's fromAddr), so every packet crosses exactly one
// relay: one-way delay per link, round trip twice that.
// Usage: delay-relay.ts DELAY_MS JITTER_MS GOSSIP_PORT GRPC_PORT RELAY_IP=REAL_IP ...
import { createSocket } from 'node:dgram';
import { createConnection, createServer, type Socket } from 'node:net';

const [delayArg, jitterArg, gossipArg, grpcArg, ...pairs] = process.argv.slice(2);
const delayMs = Number(delayArg);
const jitterMs = Number(jitterArg);
const gossipPort = Number(gossipArg);
const grpcPort = Number(grpcArg);

function delay(): number {
  return delayMs - jitterMs + Math.random() * 2 * jitterMs;
}

/** Writes chunks to `to` after a delay each, never reordering (TCP is a stream). */
function delayedPipe(from: Socket, to: Socket): void {
  let last = 0;
  from.on('data', (chunk: Buffer) => {
    const at = Math.max(last, Date.now() + delay());
    last = at;
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, at - Date.now());
  });
  from.on('end', () => setTimeout(() => to.end(), Math.max(0, last - Date.now()) + 1));
  from.on('error', () => to.destroy());
  from.on('close', () => setTimeout(() => to.destroy(), Math.max(0, last - Date.now()) + 5));
}

let pending = 0;
for (const pair of pairs) {
  const [relayIp, realIp] = pair.split('=') as [string, string];
  pending += 2;
  const udp = createSocket('udp4');
  udp.on('message', (msg) => {
    // Datagrams may overtake one another, as on a real jittery link.
    setTimeout(() => udp.send(msg, gossipPort, realIp), delay());
  });
  udp.on('error', (err) => console.error(`udp ${relayIp}: ${err.message}`));
  udp.bind(gossipPort, relayIp, () => ready());
  const tcp = createServer((client) => {
    const upstream = createConnection({ host: realIp, port: grpcPort });
    delayedPipe(client, upstream);
    delayedPipe(upstream, client);
  });
  tcp.on('error', (err) => console.error(`tcp ${relayIp}: ${err.message}`));
  tcp.listen(grpcPort, relayIp, () => ready());
}

function ready(): void {
  if (--pending === 0) process.stdout.write('delay-relay ready\n');
}
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
