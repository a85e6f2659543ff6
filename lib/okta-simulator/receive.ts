/**
 * `npm run okta -- receive`: a Standard Webhooks receiver to point FORWARD_URL at, so the
 * `forward` reaction can be watched on a laptop. Every request is verified with the
 * `standardwebhooks` package (the reference implementation, not this project's own signing
 * code); each event is printed once with its webhook-id; `--fail F` answers 503 to a fraction F
 * of first attempts, to watch the retries. Retries of an acknowledged id are said to be repeats.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';

/** Lambda's own payload limit: no forwarded event is larger. */
const MAX_BODY_BYTES = 6 * 1024 * 1024;

export interface ReceiverOptions {
  port: number;
  host?: string;
  /** The `whsec_...` secret FORWARD_SECRET holds. */
  secret: string;
  /** Fraction (0–1) of first attempts answered 503. */
  fail?: number;
  random?: () => number;
  onLine?: (line: string) => void;
  /** Called when an id is first acknowledged (benchmarks time it). */
  onAcknowledged?: (id: string) => void;
}

export interface ReceiverStats {
  requests: number;
  /** Requests whose signature the standardwebhooks package verified. */
  verified: number;
  /** Refused: missing headers, bad signature, or a timestamp over 5 minutes off. */
  rejected: number;
  /** First attempts answered 503 on purpose (--fail). */
  failedOnPurpose: number;
  /** Acknowledged (2xx) requests per webhook-id: more than 1 is a repeat. */
  acknowledged: Map<string, number>;
}

export interface WebhookReceiver {
  url: string;
  port: number;
  stats: ReceiverStats;
  stop(): Promise<void>;
}

/** Checks a secret the way the package reads it, so a bad one fails at start, not per request. */
export function checkReceiverSecret(secret: string): void {
  if (!secret.startsWith('whsec_')) throw new Error('the secret must start with whsec_');
  new Webhook(secret); // throws on an empty key
}

function clock(): string {
  return new Date().toISOString().slice(11, 19);
}

function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => resolve(size <= MAX_BODY_BYTES ? Buffer.concat(chunks) : undefined));
    request.on('error', reject);
  });
}

export async function startWebhookReceiver(options: ReceiverOptions): Promise<WebhookReceiver> {
  checkReceiverSecret(options.secret);
  const webhook = new Webhook(options.secret);
  const random = options.random ?? Math.random;
  const print = options.onLine ?? ((line: string) => console.log(line));
  const attempts = new Map<string, number>();
  const stats: ReceiverStats = {
    requests: 0,
    verified: 0,
    rejected: 0,
    failedOnPurpose: 0,
    acknowledged: new Map(),
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const answer = (status: number, line: string) => {
      response.writeHead(status).end();
      print(`${clock()} ${status} ${line}`);
    };
    if (request.method !== 'POST') {
      response.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    stats.requests++;
    const body = await readBody(request);
    const id = String(request.headers['webhook-id'] ?? '-');
    if (body === undefined) return answer(413, `${id} body over 6 MB`);
    let event: { eventType?: unknown; displayMessage?: unknown } | undefined;
    try {
      event = webhook.verify(body, request.headers as Record<string, string>) as typeof event;
    } catch (error) {
      stats.rejected++;
      const why = error instanceof WebhookVerificationError ? error.message : 'unreadable';
      return answer(401, `${id} NOT VERIFIED: ${why}`);
    }
    stats.verified++;
    const attempt = (attempts.get(id) ?? 0) + 1;
    attempts.set(id, attempt);
    if (attempt === 1 && (options.fail ?? 0) > 0 && random() < options.fail!) {
      stats.failedOnPurpose++;
      return answer(503, `${id} failing this first attempt on purpose (--fail ${options.fail})`);
    }
    const acked = (stats.acknowledged.get(id) ?? 0) + 1;
    stats.acknowledged.set(id, acked);
    if (acked > 1) {
      return answer(204, `${id} again: already acknowledged (attempt ${attempt}), a repeat`);
    }
    options.onAcknowledged?.(id);
    const type = typeof event?.eventType === 'string' ? event.eventType : '?';
    const message =
      typeof event?.displayMessage === 'string' ? ` ${JSON.stringify(event.displayMessage)}` : '';
    answer(204, `${id} ${type}${message} verified (attempt ${attempt})`);
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}/`,
    port,
    stats,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The closing line: what arrived, what was acknowledged, and anything that was not verified. */
export function receiverSummary(stats: ReceiverStats): string {
  const repeats = [...stats.acknowledged.values()].reduce((n, c) => n + c - 1, 0);
  return (
    `received ${stats.requests} requests: ${stats.verified} verified, ${stats.rejected} not verified; ` +
    `${stats.acknowledged.size} webhook-ids acknowledged (${repeats} repeats), ` +
    `${stats.failedOnPurpose} first attempts failed on purpose`
  );
}
