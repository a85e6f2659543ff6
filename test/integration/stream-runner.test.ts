/**
 * The local stream runner reads each consumer's records as Lambda's event source mappings do:
 * side by side and independently, so a consumer that is slow or retrying (react, waiting for a
 * receiver that is down) never holds back another (store, which must keep storing events).
 */
import { linkSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import {
  type StreamConsumer,
  offlineInvoker,
  startStreamRunner,
} from '../../lib/local/stream-runner';
import { type TestDynamoDb, startTestDynamoDb } from '../helpers/dynamodb';
import { startTestStreams } from '../helpers/streams';

let db: TestDynamoDb;

beforeAll(async () => {
  db = await startTestDynamoDb();
}, 120_000);

afterAll(async () => {
  await db?.stop();
});

const consumer = (name: string): StreamConsumer => ({
  name,
  batchSize: 10,
  maximumRetryAttempts: 2,
  bisectBatchOnFunctionError: false,
  reportBatchItemFailures: true,
  filterPatterns: [],
});

function keysOf(event: DynamoDBStreamEvent): string[] {
  return event.Records.map((r) => r.dynamodb?.Keys?.pk?.S ?? '?');
}

async function waitFor(predicate: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

it('a consumer stuck on a batch does not hold back the others', async () => {
  const table = await db.newTable();
  const put = (pk: string) =>
    db.client.send(
      new PutItemCommand({ TableName: table, Item: { pk: { S: pk }, sk: { S: 'X' } } }),
    );
  const fastSaw: string[] = [];
  const slowSaw: string[] = [];
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const streams = await startTestStreams(db, table, {
    handlers: {
      slow: async (event) => {
        slowSaw.push(...keysOf(event));
        await released;
        return { batchItemFailures: [] };
      },
      fast: async (event) => {
        fastSaw.push(...keysOf(event));
        return { batchItemFailures: [] };
      },
    },
    consumers: [consumer('slow'), consumer('fast')],
  });
  try {
    await put('A');
    await waitFor(() => slowSaw.includes('A') && fastSaw.includes('A'));
    // `slow` is still busy with A: B must reach `fast` all the same.
    await put('B');
    await waitFor(() => fastSaw.includes('B'));
    expect(slowSaw).toEqual(['A']);
    release();
    await streams.idle();
    expect(slowSaw).toEqual(['A', 'B']);
    expect(fastSaw).toEqual(['A', 'B']);
  } finally {
    release();
    await streams.stop();
  }
});

it('idle() waits for every consumer, the slow one included', async () => {
  const table = await db.newTable();
  const handled: string[] = [];
  const streams = await startTestStreams(db, table, {
    handlers: {
      slow: async (event) => {
        await new Promise((r) => setTimeout(r, 300));
        handled.push(...keysOf(event).map((k) => `slow:${k}`));
        return { batchItemFailures: [] };
      },
      fast: async (event) => {
        handled.push(...keysOf(event).map((k) => `fast:${k}`));
        return { batchItemFailures: [] };
      },
    },
    consumers: [consumer('slow'), consumer('fast')],
  });
  try {
    for (const pk of ['C', 'D']) {
      await db.client.send(
        new PutItemCommand({ TableName: table, Item: { pk: { S: pk }, sk: { S: 'X' } } }),
      );
    }
    await streams.idle();
    expect(handled.filter((h) => h.startsWith('slow:')).sort()).toEqual(['slow:C', 'slow:D']);
    expect(handled.filter((h) => h.startsWith('fast:')).sort()).toEqual(['fast:C', 'fast:D']);
  } finally {
    await streams.stop();
  }
});

describe('the checkpoint file (.dynamodb/stream-checkpoints.json under npm start)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stream-checkpoints-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const put = (table: string, pk: string) =>
    db.client.send(
      new PutItemCommand({ TableName: table, Item: { pk: { S: pk }, sk: { S: 'X' } } }),
    );

  it('a torn file is reported in one line and the stream is read again from its oldest record', async () => {
    const table = await db.newTable();
    await put(table, 'E');
    const file = join(dir, 'stream-checkpoints.json');
    writeFileSync(file, '{"arn:aws:dynamodb:ddblocal:000000000000:table/x/stream/2026|sto');
    const saw: string[] = [];
    const lines: string[] = [];
    const streams = await startTestStreams(db, table, {
      handlers: {
        fast: async (event) => {
          saw.push(...keysOf(event));
          return { batchItemFailures: [] };
        },
      },
      consumers: [consumer('fast')],
      checkpointFile: file,
      onLine: (line) => lines.push(line),
    });
    try {
      await streams.idle();
      expect(saw).toEqual(['E']);
      expect(lines).toEqual([
        expect.stringMatching(
          /^stream: WARNING: ignoring .*stream-checkpoints\.json \(.*JSON.*\); reading the stream again from its oldest record \(storing is idempotent\)$/,
        ),
      ]);
      // The torn file is replaced by a whole one.
      expect(Object.values(JSON.parse(readFileSync(file, 'utf8')))).toHaveLength(1);
    } finally {
      await streams.stop();
    }
  });

  it('a save replaces the file whole (temp file and rename), never rewriting it in place', async () => {
    const table = await db.newTable();
    const file = join(dir, 'stream-checkpoints.json');
    const saw: string[] = [];
    const streams = await startTestStreams(db, table, {
      handlers: {
        fast: async (event) => {
          saw.push(...keysOf(event));
          return { batchItemFailures: [] };
        },
      },
      consumers: [consumer('fast')],
      checkpointFile: file,
    });
    try {
      await put(table, 'F');
      await waitFor(() => saw.includes('F'));
      await streams.idle();
      // A second name for the file as saved: an in-place write would change what it reads too,
      // and a crash during that write would leave it torn.
      const before = readFileSync(file, 'utf8');
      linkSync(file, join(dir, 'previous.json'));
      await put(table, 'G');
      await waitFor(() => saw.includes('G'));
      await streams.idle();
      expect(readFileSync(join(dir, 'previous.json'), 'utf8')).toBe(before);
      expect(readFileSync(file, 'utf8')).not.toBe(before);
      expect(readdirSync(dir).sort()).toEqual(['previous.json', 'stream-checkpoints.json']);
    } finally {
      await streams.stop();
    }
  });
});

it('an invocation serverless offline never answers fails after the timeout and is retried, instead of stalling the stream', async () => {
  const table = await db.newTable();
  // Serverless offline's Lambda API as it behaves when it reloads mid-invocation: the first
  // request is accepted and never answered; later ones are.
  const requests: string[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      requests.push(request.url ?? '');
      if (requests.length > 1) response.end(JSON.stringify({ batchItemFailures: [] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const streams = await startStreamRunner({
    client: db.client,
    endpoint: db.local.endpoint,
    region: 'us-east-1',
    tableName: table,
    consumers: [consumer('store')],
    invoke: offlineInvoker(port, 'svc', 'local', () => 500),
    retryBaseMs: 10,
  });
  try {
    await db.client.send(
      new PutItemCommand({ TableName: table, Item: { pk: { S: 'E' }, sk: { S: 'X' } } }),
    );
    const stalled = new Promise<'stalled'>((r) => setTimeout(() => r('stalled'), 60_000).unref());
    expect(await Promise.race([streams.idle().then(() => 'idle'), stalled])).toBe('idle');
    expect(requests).toEqual([
      '/2015-03-31/functions/svc-local-store/invocations',
      '/2015-03-31/functions/svc-local-store/invocations',
    ]);
    expect(streams.failures).toEqual([]);
  } finally {
    await streams.stop();
    server.closeAllConnections();
    server.close();
  }
});
