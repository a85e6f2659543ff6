/**
 * `forward` against real HTTP receivers: an event whose uuid cannot be a header value still goes
 * out (verified by the standardwebhooks package), and a receiver answering with an endless body
 * costs a few KB, not the function's memory.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../lib/config';
import { startWebhookReceiver } from '../../lib/okta-simulator/receive';
import { MAX_RESPONSE_BYTES, postEvent, webhookId } from '../../lib/reactions/forward';

const SECRET = 'whsec_' + Buffer.from('the forward test secret, 32 bytes').toString('base64');

const configFor = (url: string) =>
  loadConfig({
    STAGE: 'local',
    EVENTS_TABLE: 'unused',
    FORWARD_URL: url,
    FORWARD_SECRET: SECRET,
    FORWARD_TIMEOUT_MS: '5000',
  });

const eventJson = (uuid: string) =>
  JSON.stringify({ uuid, eventType: 'user.session.start', published: '2026-12-03T10:00:00Z' });

it('forwards an event whose uuid holds control characters, under a stable, distinct, verified webhook-id', async () => {
  const receiver = await startWebhookReceiver({ port: 0, secret: SECRET, onLine: () => undefined });
  try {
    const config = configFor(receiver.url);
    const hostile = 'evil\r\nx-injected: 1\u0000%\u00e9';
    const signal = new AbortController().signal;
    await postEvent(config, hostile, eventJson(hostile), signal);
    await postEvent(config, hostile, eventJson(hostile), signal); // a retry: the same id
    await postEvent(config, 'f1d0b993-cc19-11ed-a688-db22c99ef6c4', eventJson('x'), signal);
    expect(receiver.stats.verified).toBe(3);
    expect(receiver.stats.rejected).toBe(0);
    expect(receiver.stats.acknowledged).toEqual(
      new Map([
        ['evil%000D%000Ax-injected:%00201%0000%0025%00E9', 2],
        ['f1d0b993-cc19-11ed-a688-db22c99ef6c4', 1],
      ]),
    );
    // Escaping never makes two uuids one id: a uuid that looks escaped is escaped itself.
    expect(webhookId('a%000D')).toBe('a%0025000D');
    expect(webhookId('a\r')).toBe('a%000D');
  } finally {
    await receiver.stop();
  }
});

it('reads at most a few KB of an answer, then drops the connection', async () => {
  let sent = 0;
  let closed!: () => void;
  const connectionClosed = new Promise<void>((resolve) => (closed = resolve));
  // A receiver answering 500 with a body that never ends.
  const server = createServer((request, response) => {
    request.resume();
    response.writeHead(500, { 'content-type': 'text/plain' });
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const pump = () => {
      while (!response.destroyed && response.write(chunk)) sent += chunk.length;
    };
    response.on('drain', pump);
    response.on('close', () => closed());
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    await expect(
      postEvent(configFor(url), 'u-1', eventJson('u-1'), new AbortController().signal),
    ).rejects.toThrow(/^http:\/\/127\.0\.0\.1:\d+ answered 500$/);
    await connectionClosed;
    // What the sender wrote before it saw the close: socket buffers, not the endless body.
    expect(sent).toBeLessThan(16 * 1024 * 1024);
    expect(MAX_RESPONSE_BYTES).toBeLessThanOrEqual(8192);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
