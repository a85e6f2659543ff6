/**
 * DynamoDB Local checks no signatures: it must be reachable from this machine only. Its listening
 * sockets are read from /proc/net/tcp{,6}, and a connection through this machine's own
 * non-loopback address must be refused.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { type TestDynamoDb, startTestDynamoDb } from '../helpers/dynamodb';

let db: TestDynamoDb;
beforeAll(async () => {
  db = await startTestDynamoDb();
}, 180_000);
afterAll(() => db?.stop());

/** Local addresses (hex, as the kernel writes them) of the sockets listening on `port`. */
function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      // state 0A = LISTEN
      .filter((fields) => fields[1]?.endsWith(`:${hexPort}`) && fields[3] === '0A')
      .map((fields) => fields[1]!.split(':')[0]!),
  );
}

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

it('listens on the loopback address only', async () => {
  const addresses = listeningAddresses(db.local.port);
  expect(addresses.length).toBeGreaterThan(0);
  // 127.0.0.1 as IPv4, or as an IPv4-mapped IPv6 address (::ffff:127.0.0.1).
  for (const address of addresses) {
    expect(['0100007F', '0000000000000000FFFF00000100007F']).toContain(address);
  }
  expect(await connects('127.0.0.1', db.local.port)).toBe(true);
});

it('refuses connections through this machine’s other addresses', async () => {
  const others = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && !a.internal && a.family === 'IPv4')
    .map((a) => a!.address);
  expect(others.length).toBeGreaterThan(0); // else this test proves nothing here
  for (const address of others) expect(await connects(address, db.local.port)).toBe(false);
});
