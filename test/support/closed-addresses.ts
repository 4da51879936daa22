// Loopback addresses where nothing listens: each gRPC call to one fails fast (connection refused),
// so tests can count a client's channels to many "peers" without running servers.
import { createServer } from 'node:net';

export async function closedAddresses(n: number): Promise<string[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const addrs = servers.map((s) => {
    const a = s.address();
    return typeof a === 'object' && a !== null ? `127.0.0.1:${a.port}` : '';
  });
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return addrs;
}
