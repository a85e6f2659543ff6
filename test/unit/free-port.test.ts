/** freePort: below Linux's ephemeral range, so no client's connect() can take it before use. */
import { createServer } from 'node:net';
import { freePort } from '../../lib/local/local-stack';

it('picks ports below the ephemeral range (32768-60999) that a server can then listen on', async () => {
  const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
  for (const port of ports) {
    expect(port).toBeGreaterThanOrEqual(20000);
    expect(port).toBeLessThan(32000);
  }
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(ports[0], '127.0.0.1', resolve);
  });
  await new Promise((resolve) => server.close(resolve));
});
