/**
 * The end-to-end floor: the shape of the Hookdeck sample app from Okta's event hooks guide (a
 * bare Node HTTP server that reads the POST body and acknowledges it), here making the
 * receiver's one DynamoDB write (the delivery's head, gzipped body inside). No auth, no budget,
 * no logging. Started by bench/end-to-end.ts with PORT, DYNAMODB_ENDPOINT and EVENTS_TABLE.
 */
import { createServer } from 'node:http';
import { createDynamoDbClient } from '../lib/store/dynamodb';
import { receiverItems, recordDelivery } from './workload';

const client = createDynamoDbClient({
  region: 'us-east-1',
  dynamodbEndpoint: process.env.DYNAMODB_ENDPOINT,
});
const table = process.env.EVENTS_TABLE!;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    recordDelivery(client, table, receiverItems(Buffer.concat(chunks).toString('utf8'))).then(
      () => {
        res.writeHead(204);
        res.end();
      },
      () => {
        res.writeHead(503);
        res.end();
      },
    );
  });
});

server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('ready'));
process.once('SIGTERM', () => {
  server.closeAllConnections();
  // Ends by itself once the server and the client's sockets are closed.
  server.close(() => client.destroy());
});
