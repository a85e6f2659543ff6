/**
 * `npm run screenshots`: the event browser's pictures in docs/images/ (the events, an event's
 * detail, a delivery's detail), taken from a real local stack (DynamoDB Local in memory +
 * serverless offline, on free ports) holding simulator events, in headless Chromium at
 * 1280 x 800. Everything it starts is stopped by pid when it ends.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_TABLE_NAME } from '../lib/config';
import { launchChromium } from '../lib/local/chromium';
import {
  LocalStackError,
  type RunningProcess,
  freePort,
  startDynamoDbLocal,
  startServerlessOffline,
} from '../lib/local/local-stack';
import { offlineInvoker, startStreamRunner } from '../lib/local/stream-runner';
import { runOktaCli } from '../lib/okta-simulator/cli';
import { createDynamoDbClient } from '../lib/store/dynamodb';
import { PROJECT_ROOT, ensureTable } from '../lib/store/table-definition';

const TOKEN = 'screenshots-token';
const SECRET = 'Basic c2NyZWVuc2hvdHM6c2VjcmV0';
const OUT = join(PROJECT_ROOT, 'docs/images');
const quiet = { out: () => undefined, err: () => undefined };

/** Finished loads the page counts on <body data-*-loads> (lib/ui/client/main.ts). */
type PageGlobals = { document: { body: { dataset: Record<string, string | undefined> } } };
/** Runs in the page: a function, since the page's CSP refuses to evaluate text. */
function loaded(names: string[]): boolean {
  const { dataset } = (globalThis as unknown as PageGlobals).document.body;
  return names.every((name) => Number(dataset[name] ?? 0) > 0);
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const running: Pick<RunningProcess, 'stop'>[] = [];
  try {
    const dynamo = await startDynamoDbLocal({ port: await freePort() });
    running.push(dynamo);
    const client = createDynamoDbClient(
      { region: 'us-east-1', dynamodbEndpoint: dynamo.endpoint },
      { requestTimeoutMs: 30_000 }, // creating a table can take seconds on a busy machine
    );
    running.push({ stop: async () => client.destroy() });
    await ensureTable(client, DEFAULT_TABLE_NAME);
    const offline = await startServerlessOffline({
      httpPort: await freePort(),
      env: {
        ...process.env,
        DYNAMODB_ENDPOINT: dynamo.endpoint,
        EVENTS_API_TOKEN: TOKEN,
        OKTA_AUTH_SECRET: SECRET,
        REACTIONS: 'welcome-new-user', // so that an event's detail has a reaction to show
      },
    });
    running.push(offline);
    // Deliveries are stored first; their events are written from the table's stream.
    const streams = await startStreamRunner({
      client,
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      tableName: DEFAULT_TABLE_NAME,
      invoke: offlineInvoker(offline.lambdaPort, 'okta-event-hooks', 'local'),
    });
    running.push({ stop: () => streams.stop() });
    const hook = `${offline.url}/okta-webhooks-endpoint`;
    const send = (...args: string[]) =>
      runOktaCli(['send', '--url', hook, '--secret', SECRET, ...args], quiet);
    // The first delivery meets a cold function; then a few minutes' worth of every type.
    for (let attempt = 0; (await send('--type', 'user.session.start')) !== 0; attempt++) {
      if (attempt === 3) throw new LocalStackError('the local stack did not store a delivery');
    }
    if ((await send('--type', 'all', '--count', '300', '--per-request', '10')) !== 0) {
      throw new LocalStackError('the simulator could not deliver its events');
    }
    await streams.idle();

    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(`${offline.url}/ui`);
      await page.fill('#token', TOKEN);
      await page.click('#sign-in-form button[type="submit"]');
      await page.waitForFunction(loaded, ['listLoads', 'chartLoads']);
      await page.mouse.move(0, 0); // no hover highlight in the picture
      mkdirSync(OUT, { recursive: true });
      await page.screenshot({ path: join(OUT, 'event-browser.png') });
      // An event a reaction ran on, when the first page has one.
      const created = await page.$(
        '#events tbody tr:has([data-filter="type"][data-value="user.lifecycle.create"])',
      );
      const row = created ?? (await page.$('#events tbody tr:nth-child(3)'))!;
      await (await row.$('[data-action="open"]'))!.click();
      await page.waitForFunction(loaded, ['detailLoads']);
      await page.screenshot({ path: join(OUT, 'event-browser-detail.png') });
      await page.keyboard.press('Escape');
      await page.click('#tab-deliveries');
      await page.waitForFunction(loaded, ['deliveryListLoads']);
      await page.click('#deliveries tbody tr:nth-child(2) [data-action="open"]');
      await page.waitForFunction(loaded, ['deliveryLoads']);
      await page.mouse.move(0, 0);
      await page.screenshot({ path: join(OUT, 'event-browser-deliveries.png') });
    } finally {
      await browser.close();
    }
    console.log(
      `Wrote ${join(OUT, 'event-browser.png')}, event-browser-detail.png and event-browser-deliveries.png`,
    );
  } finally {
    for (const process of running.reverse()) await process.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof LocalStackError ? `screenshots: ${error.message}` : error);
  process.exitCode = 1;
});
