/**
 * A function that runs past its timeout under serverless offline. Offline (HTTP API payload 2.0)
 * would answer such an invocation with a 200 whose body is its error object, and terminate the
 * worker thread, so that the next invocation starts cold: on a loaded machine, where loading a
 * worker takes longer than the receive function's 6 s, every invocation is killed and every
 * answer is a 200 for a delivery never written. The local stack runs offline with --noTimeout:
 * the handlers bound their own time (the receiver's request budget, the store function's
 * remaining-time check), so an answer is always the service's own.
 */
import { type Server, type Socket, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  type ServerlessOffline,
  freePort,
  startServerlessOffline,
} from '../../lib/local/local-stack';
import { isRunning } from '../helpers/run';

const READ_TOKEN = 'read-token-offline-timeout';
let blackHole: Server;
const sockets = new Set<Socket>();
let offline: ServerlessOffline;

beforeAll(async () => {
  // A "DynamoDB" that accepts connections and never answers: every read waits for its timeout.
  blackHole = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
  const { port } = blackHole.address() as AddressInfo;
  offline = await startServerlessOffline({
    httpPort: await freePort(),
    env: {
      ...process.env,
      DYNAMODB_ENDPOINT: `http://127.0.0.1:${port}`,
      EVENTS_API_TOKEN: READ_TOKEN,
    },
  });
}, 120_000);

afterAll(async () => {
  const pid = offline?.pid;
  await offline?.stop();
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => blackHole.close(() => resolve()));
  if (pid !== undefined) expect(isRunning(pid)).toBe(false);
});

it('a request that outlasts the function timeout gets the service answer, never a 200', async () => {
  // The read API's DynamoDB client tries 3 times with a 5 s request timeout: past the 6 s
  // function timeout of serverless.yml.
  const started = Date.now();
  const response = await fetch(`${offline.url}/events`, {
    headers: { authorization: `Bearer ${READ_TOKEN}` },
    signal: AbortSignal.timeout(90_000),
  });
  const body = await response.text();
  expect(Date.now() - started).toBeGreaterThan(6000);
  expect(body).not.toContain('Lambda timeout');
  expect(response.status).toBe(500);
  expect(JSON.parse(body)).toMatchObject({ error: 'internal_error' });
}, 120_000);
