/**
 * A tiny local HTTP server that answers as scripted: for faults a real endpoint will not
 * produce on demand (wrong answers, 5xx, 4xx, hanging past Okta's timeout).
 */
import { type IncomingHttpHeaders, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Answer =
  | { status: number; contentType?: string; body?: string }
  /** Never answers: the caller's timeout has to end the exchange. */
  | 'hang';

export interface TestServer {
  url: string;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

/** `answer(request, n)` decides the answer to the n-th request (0-based). */
export async function startTestServer(
  answer: (request: ReceivedRequest, n: number) => Answer,
): Promise<TestServer> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = {
        method: req.method ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(request);
      const reply = answer(request, requests.length - 1);
      if (reply === 'hang') return;
      res.writeHead(reply.status, reply.contentType ? { 'content-type': reply.contentType } : {});
      res.end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/okta-webhooks-endpoint`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections(); // hanging exchanges included
        server.close(() => resolve());
      }),
  };
}

/** What the service answers to a good verification GET. */
export function echoChallenge(request: ReceivedRequest): Answer {
  return {
    status: 200,
    contentType: 'application/json',
    body: JSON.stringify({ verification: request.headers['x-okta-verification-challenge'] }),
  };
}
