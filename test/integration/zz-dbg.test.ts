import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { startTestDynamoDb } from '../../test/helpers/dynamodb';
import { DeliveryStore } from '../../lib/store/delivery-store';
import { createDynamoDbClient } from '../../lib/store/dynamodb';
it('measures', async () => {
  const db = await startTestDynamoDb();
  const t = await db.newTable();
  const client = createDynamoDbClient({ region: 'us-east-1', dynamodbEndpoint: db.local.endpoint });
  const store = new DeliveryStore(client, t);
  for (const mb of [0.5, 1, 2, 3.6]) {
    const body = Buffer.from(randomBytes(mb * 750_000).toString('base64'));
    let t0 = performance.now();
    gzipSync(body);
    const g = performance.now() - t0;
    t0 = performance.now();
    await store.record({
      deliveryId: 'd' + mb,
      eventId: undefined,
      receivedAt: new Date().toISOString(),
      body,
      headers: {},
      eventCount: 1,
      eventTypes: [],
      source: undefined,
      eventTime: undefined,
      caller: 'okta',
      sourceIp: undefined,
      requestId: 'x',
      expiresAt: undefined,
    });
    console.log(mb, 'MB gzip', g.toFixed(0), 'record', (performance.now() - t0).toFixed(0));
  }
  client.destroy();
  await db.stop();
});
