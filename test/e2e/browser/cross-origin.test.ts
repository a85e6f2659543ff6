/**
 * Another page on this machine (another port of the same host: the same site, so SameSite=Strict
 * still sends the cookie) must not read the event store through a browser signed in at /ui:
 * serverless offline adds no CORS grant (API Gateway with no CORS configured adds none), and the
 * read API refuses the session cookie on requests from another origin. Real Chromium, real
 * serverless offline and DynamoDB Local.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../../../lib/local/chromium';
import { type TestStack, startTestStack } from '../../helpers/offline';
import { chromiumTests } from '../../helpers/chromium-tests';

const TOKEN = 'cross-origin-token-5f1c-0123456789abcdef';

const { browserIt, missingChromium } = chromiumTests();

let stack: TestStack;
let browser: Browser;
/** The other page's server: an empty page on another port of 127.0.0.1. */
let other: Server;
let otherOrigin: string;

beforeAll(async () => {
  stack = await startTestStack({ EVENTS_API_TOKEN: TOKEN });
  other = createServer((_, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end('<!doctype html><title>another page</title>');
  });
  // The same host as the stack, another port: the same site, so the cookie is sent along.
  const { hostname } = new URL(stack.offline.url);
  await new Promise<void>((resolve) => other.listen(0, hostname, resolve));
  otherOrigin = `http://${hostname}:${(other.address() as AddressInfo).port}`;
  if (!missingChromium) browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => other?.close(resolve));
  if (stack) expect(await stack.stop()).toEqual([]);
});

it('grants no CORS to another origin, with a bearer token or without', async () => {
  const url = new URL('/events?limit=1', stack.offline.url);
  const withToken = await fetch(url, {
    headers: { origin: 'http://evil.example', authorization: `Bearer ${TOKEN}` },
  });
  expect(withToken.status).toBe(200); // a bearer token is not a browser's ambient credential
  const preflight = await fetch(url, {
    method: 'OPTIONS',
    headers: { origin: otherOrigin, 'access-control-request-method': 'GET' },
  });
  for (const response of [withToken, preflight]) {
    const cors = [...response.headers.keys()].filter((name) => name.startsWith('access-control-'));
    expect(cors).toEqual([]);
  }
});

browserIt(
  'a page on another port cannot read /events with the signed-in cookie; /ui itself can',
  async () => {
    const context = await browser.newContext();
    try {
      const ui = await context.newPage();
      await ui.goto(new URL('/ui', stack.offline.url).href);
      const signIn = await ui.evaluate(async (token) => {
        const response = await fetch('ui/session', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ token }),
        });
        return response.status;
      }, TOKEN);
      expect(signIn).toBe(200);
      // The signed-in page reads with its cookie alone.
      const own = await ui.evaluate(async () => (await fetch('events?limit=3')).status);
      expect(own).toBe(200);

      const page = await context.newPage();
      await page.goto(otherOrigin);
      const eventsUrl = new URL('/events?limit=3', stack.offline.url).href;
      const read = await page.evaluate(async (target) => {
        try {
          const response = await fetch(target, { credentials: 'include' });
          return `read ${response.status}: ${(await response.text()).slice(0, 80)}`;
        } catch (error) {
          return `refused: ${(error as Error).name}`;
        }
      }, eventsUrl);
      expect(read).toBe('refused: TypeError');
      // Whatever the browser does with the answer, the request itself is refused: what
      // Chromium sent, with the cookie it holds.
      const [cookie] = await context.cookies(stack.offline.url);
      const refused = await fetch(eventsUrl, {
        headers: {
          cookie: `${cookie!.name}=${cookie!.value}`,
          origin: otherOrigin,
          'sec-fetch-site': 'same-site',
        },
      });
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: string }).error).toBe('cross_origin');
    } finally {
      await context.close();
    }
  },
);
