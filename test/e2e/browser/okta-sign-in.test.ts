/**
 * Sign in with Okta in a real Chromium against the fake org's authorization server and a real
 * serverless offline + DynamoDB Local (one stack for the file): the whole redirect round trip
 * (auto-login and the login form), a user outside OKTA_UI_GROUPS refused, a tampered state
 * refused, sign-out through the issuer's logout (the old cookie then gets 401 from the read API),
 * and a key rotation at the issuer between two sign-ins.
 */
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../../../lib/local/chromium';
import {
  DEFAULT_EVENT_BROWSER_APP,
  type FakeOrg,
  startFakeOktaOrg,
} from '../../../lib/okta-simulator/fake-org';
import { type TestStack, startTestStack } from '../../helpers/offline';
import { chromiumTests } from '../../helpers/chromium-tests';

const APP = DEFAULT_EVENT_BROWSER_APP;

let org: FakeOrg;
let stack: TestStack;
let base: string;
let browser: Browser;

const { browserIt, missingChromium } = chromiumTests();

beforeAll(async () => {
  if (missingChromium) return;
  org = await startFakeOktaOrg({ authorizationServer: { autoLogin: 'alice@example.com' } });
  stack = await startTestStack({
    OKTA_ISSUER: org.authorizationServer.issuer,
    OKTA_UI_CLIENT_ID: APP.clientId,
    OKTA_UI_CLIENT_SECRET: APP.clientSecret,
    OKTA_UI_GROUPS: 'okta-events-readers',
  });
  base = stack.offline.url;
  // The stack's free port: register its callback and its page for after the logout.
  org.authorizationServer.addApp({
    ...APP,
    redirectUris: [...APP.redirectUris, `${base}/ui/callback`],
    postLogoutRedirectUris: [...APP.postLogoutRedirectUris, `${base}/ui`],
  });
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  if (stack) expect(await stack.stop()).toEqual([]);
  await org?.stop();
});

/** A fresh browser (no cookies) at /ui, after clicking "Sign in with Okta". */
async function signIn(login: string | undefined): Promise<Page> {
  org.authorizationServer.setAutoLogin(login);
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${base}/ui`);
  await page.getByRole('link', { name: 'Sign in with Okta' }).click();
  return page;
}

async function expectSignedInAs(page: Page, login: string): Promise<void> {
  await page.waitForURL(`${base}/ui`);
  await page.locator('#session-note', { hasText: `Signed in as ${login}` }).waitFor();
}

async function sessionCookie(page: Page): Promise<string> {
  const cookie = (await page.context().cookies()).find((c) => c.name === 'okta-events-session');
  expect(cookie).toBeDefined();
  expect(cookie!.httpOnly).toBe(true);
  expect(cookie!.sameSite).toBe('Strict');
  return `${cookie!.name}=${cookie!.value}`;
}

async function readWith(cookie: string): Promise<number> {
  return (await fetch(`${base}/event-types`, { headers: { cookie } })).status;
}

browserIt(
  'signs in through the fake org (auto-login), and reads are logged as the user',
  async () => {
    const page = await signIn('alice@example.com');
    await expectSignedInAs(page, 'alice@example.com');
    expect(await readWith(await sessionCookie(page))).toBe(200);
    expect(stack.lines.join('\n')).toMatch(/"path":"\/event-types".*"user":"alice@example.com"/);
    // The flow cookie is gone once used.
    const names = (await page.context().cookies()).map((c) => c.name);
    expect(names).not.toContain('okta-events-sign-in');
    await page.context().close();
  },
);

browserIt("signs in through the fake org's login form", async () => {
  const page = await signIn(undefined);
  await page.getByRole('button', { name: /carol@example.com/ }).click();
  await expectSignedInAs(page, 'carol@example.com');
  await page.context().close();
});

browserIt('refuses a user outside OKTA_UI_GROUPS, with a page naming them', async () => {
  const page = await signIn('bob@example.com');
  await page.waitForURL(/\/ui\/callback\?/);
  await page.getByRole('heading', { name: 'Not in an allowed group' }).waitFor();
  expect(await page.locator('#sign-in-problem').textContent()).toMatch(
    /You signed in to Okta as bob@example.com, but the event browser is only for members of okta-events-readers/,
  );
  expect((await page.context().cookies()).map((c) => c.name)).not.toContain('okta-events-session');
  await page.context().close();
});

browserIt('refuses a callback whose state was changed on the way', async () => {
  // At the fake org's login form, change the state it will send back, then sign in.
  const page = await signIn(undefined);
  const state = page.locator('input[name="state"]');
  expect(await state.getAttribute('value')).toMatch(/^[\w-]{40,}$/);
  await state.evaluate((input) => input.setAttribute('value', 'tampered'));
  const answer = page.waitForResponse(/\/ui\/callback\?/);
  await page.getByRole('button', { name: /alice@example.com/ }).click();
  expect((await answer).status()).toBe(400);
  await page.getByRole('heading', { name: 'Sign-in did not complete' }).waitFor();
  expect(await page.locator('#sign-in-problem').textContent()).toMatch(
    /does not belong to the sign-in this browser started/,
  );
  expect(await page.getByRole('link', { name: 'Try again' }).getAttribute('href')).toBe('login');
  expect((await page.context().cookies()).map((c) => c.name)).not.toContain('okta-events-session');
  await page.context().close();
});

browserIt('signs out here and at the issuer: the old cookie then gets 401', async () => {
  const page = await signIn('alice@example.com');
  await expectSignedInAs(page, 'alice@example.com');
  const cookie = await sessionCookie(page);
  const logouts = org.authorizationServer.logouts.length;
  await page.getByRole('button', { name: 'Sign out' }).click();
  // Through the issuer's v1/logout and back to the page, signed out.
  await page.waitForURL(`${base}/ui`);
  await page.getByRole('link', { name: 'Sign in with Okta' }).waitFor();
  expect(org.authorizationServer.logouts.slice(logouts)).toEqual([
    expect.objectContaining({ clientId: APP.clientId }),
  ]);
  expect(await readWith(cookie)).toBe(401);
  await page.context().close();
});

browserIt('signs in again after the issuer rotated its keys', async () => {
  const first = await signIn('alice@example.com');
  await expectSignedInAs(first, 'alice@example.com');
  org.authorizationServer.rotateKeys();
  const second = await signIn('carol@example.com');
  await expectSignedInAs(second, 'carol@example.com');
  // A session is ours, not the issuer's keys': the first one still reads.
  expect(await readWith(await sessionCookie(first))).toBe(200);
  await first.context().close();
  await second.context().close();
});
