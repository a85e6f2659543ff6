/**
 * `npm run screenshots:sign-in`: the pictures of Sign in with Okta in docs/images/ (the sign-in
 * panel, and the page a user outside OKTA_UI_GROUPS gets), taken in headless Chromium at
 * 1280 x 800 from a real local stack (DynamoDB Local in memory + serverless offline on free
 * ports) signing in against the fake org. Everything it starts is stopped when it ends.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_TABLE_NAME } from '../lib/config';
import { launchChromium } from '../lib/local/chromium';
import {
  LocalStackError,
  freePort,
  startDynamoDbLocal,
  startServerlessOffline,
} from '../lib/local/local-stack';
import { DEFAULT_EVENT_BROWSER_APP as APP, startFakeOktaOrg } from '../lib/okta-simulator/fake-org';
import { createDynamoDbClient } from '../lib/store/dynamodb';
import { PROJECT_ROOT, ensureTable } from '../lib/store/table-definition';

const OUT = join(PROJECT_ROOT, 'docs/images');

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const running: { stop(): Promise<unknown> | unknown }[] = [];
  try {
    const org = await startFakeOktaOrg({ authorizationServer: { autoLogin: 'bob@example.com' } });
    running.push(org);
    const dynamo = await startDynamoDbLocal({ port: await freePort() });
    running.push(dynamo);
    const client = createDynamoDbClient(
      { region: 'us-east-1', dynamodbEndpoint: dynamo.endpoint },
      { requestTimeoutMs: 30_000 },
    );
    running.push({ stop: () => client.destroy() });
    await ensureTable(client, DEFAULT_TABLE_NAME);
    const offline = await startServerlessOffline({
      httpPort: await freePort(),
      env: {
        ...process.env,
        DYNAMODB_ENDPOINT: dynamo.endpoint,
        EVENTS_API_TOKEN: 'screenshots-token',
        OKTA_ISSUER: org.authorizationServer.issuer,
        OKTA_UI_CLIENT_ID: APP.clientId,
        OKTA_UI_CLIENT_SECRET: APP.clientSecret,
        OKTA_UI_GROUPS: 'okta-events-readers',
      },
    });
    running.push(offline);
    org.authorizationServer.addApp({
      ...APP,
      redirectUris: [...APP.redirectUris, `${offline.url}/ui/callback`],
    });

    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(`${offline.url}/ui`);
      const button = page.getByRole('link', { name: 'Sign in with Okta' });
      await button.waitFor();
      mkdirSync(OUT, { recursive: true });
      await page.screenshot({ path: join(OUT, 'sign-in-with-okta.png') });
      await button.click(); // bob@example.com, who is not in okta-events-readers
      await page.getByRole('heading', { name: 'Not in an allowed group' }).waitFor();
      await page.screenshot({ path: join(OUT, 'sign-in-not-in-group.png') });
    } finally {
      await browser.close();
    }
    console.log(`Wrote ${join(OUT, 'sign-in-with-okta.png')} and sign-in-not-in-group.png`);
  } finally {
    for (const process of running.reverse()) await process.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof LocalStackError ? `screenshots: ${error.message}` : error);
  process.exitCode = 1;
});
