/**
 * `npm run events -- … --url`: the bearer token goes with every request, so the read API's URL
 * must be https, or http:// to this machine only (as OKTA_ORG_URL). A server on 127.0.0.2 (not
 * this machine's loopback name, but reachable here) stands in for a cleartext host elsewhere.
 */
import { type AddressInfo } from 'node:net';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { runEventsCli } from '../../lib/cli/events-cli';
import { ReadApiClient } from '../../lib/read-api/read-api-client';

const TOKEN = 'read-token-that-must-not-leak-0123456789';
let server: Server;
const seen: IncomingMessage[] = [];

function listen(host: string): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
  });
}

beforeEach(() => {
  seen.length = 0;
  server = createServer((request, response) => {
    seen.push(request);
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{"events":[],"meta":[]}');
  });
});
afterEach(() => new Promise((resolve) => server.close(resolve)));

async function events(args: string[]) {
  const lines: string[] = [];
  const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
  return runEventsCli(args, { EVENTS_API_TOKEN: TOKEN }, io);
}

it('refuses an http:// read API URL off this machine before sending anything', async () => {
  const port = await listen('127.0.0.2');
  for (const command of [['list'], ['reactions'], ['get', 'some-uuid'], ['deliveries']]) {
    await expect(events([...command, '--url', `http://127.0.0.2:${port}`])).rejects.toThrow(
      `--url (or EVENTS_API_URL) must be an https:// URL (http:// only for localhost), got "http://127.0.0.2:${port}"`,
    );
  }
  expect(seen).toHaveLength(0);
  expect(() => new ReadApiClient('not a url', TOKEN)).toThrow(
    '--url (or EVENTS_API_URL) must be the read API\'s URL, got "not a url"',
  );
});

it('still reads over http:// from localhost (npm start), with the token', async () => {
  const port = await listen('127.0.0.1');
  expect(await events(['list', '--url', `http://localhost:${port}`])).toBe(0);
  expect(seen).toHaveLength(1);
  expect(seen[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  expect(
    () => new ReadApiClient('https://abc.execute-api.us-east-1.amazonaws.com', TOKEN),
  ).not.toThrow();
});
