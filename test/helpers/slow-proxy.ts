/**
 * A TCP proxy in front of DynamoDB Local that can add latency: the one way to make a real
 * DynamoDB slower than the 3 s budget. Each chunk, either way, is held `delayMs`; order is
 * kept even when the delay changes mid-connection.
 */
import { type AddressInfo, type Socket, createConnection, createServer } from 'node:net';

export interface SlowProxy {
  endpoint: string;
  /** Latency added to every chunk from now on; 0 passes traffic straight through. */
  delayMs: number;
  /** Connections accepted, and chunks that were held back. */
  connections: number;
  delayedChunks: number;
  stop(): Promise<void>;
}

export async function startSlowProxy(upstreamPort: number): Promise<SlowProxy> {
  const sockets = new Set<Socket>();
  const proxy = { delayMs: 0, connections: 0, delayedChunks: 0 };

  /** Copies `from` to `to`, each chunk no earlier than the one before it. */
  const pipeSlowly = (from: Socket, to: Socket) => {
    let notBefore = 0;
    from.on('data', (chunk: Buffer) => {
      const at = Math.max(Date.now() + proxy.delayMs, notBefore);
      notBefore = at;
      if (at <= Date.now()) {
        to.write(chunk);
        return;
      }
      proxy.delayedChunks++;
      setTimeout(() => to.destroyed || to.write(chunk), at - Date.now());
    });
    from.on('end', () => setTimeout(() => to.end(), Math.max(0, notBefore - Date.now())));
  };

  const server = createServer((client) => {
    proxy.connections++;
    const upstream = createConnection({ port: upstreamPort, host: '127.0.0.1' });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      // A dead DynamoDB Local (ECONNREFUSED) or a caller giving up ends both sides.
      socket.on('error', () => undefined);
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    pipeSlowly(client, upstream);
    pipeSlowly(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(proxy, {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  });
}
