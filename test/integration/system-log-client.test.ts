/**
 * The System Log client against the simulator's fake Okta org over real HTTP: paging by `next`
 * links in both Link forms, polling and bounded requests, late events, rate limits (share of the
 * bucket, 429 until the reset), SSWS and private_key_jwt, and what a refusal says (never a secret).
 */
import { generateKeyPairSync } from 'node:crypto';
import { OktaApiError } from '../../lib/errors';
import { OktaAuth, type OktaCredentials, clientAssertion } from '../../lib/okta/okta-auth';
import {
  DeadlineReached,
  EVENT_HOOKS_SCOPE,
  LOGS_SCOPE,
  SystemLogClient,
  eventTypeFilter,
} from '../../lib/okta/system-log';
import {
  type FakeOrg,
  type FakeOrgOptions,
  startFakeOktaOrg,
} from '../../lib/okta-simulator/fake-org';
import { oktaEvents } from '../../lib/okta-simulator/events';

const TOKEN = '00test-ssws-token-8c1f2e';
const CLIENT_ID = '0oatestreconciler1d7';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });

const orgs: FakeOrg[] = [];
async function org(options: FakeOrgOptions = {}): Promise<FakeOrg> {
  const started = await startFakeOktaOrg({
    apiToken: TOKEN,
    clients: [{ clientId: CLIENT_ID, publicKey }],
    eventHooks: { who1: ['user.session.start', 'user.lifecycle.create'] },
    ...options,
  });
  orgs.push(started);
  return started;
}
afterEach(async () => {
  await Promise.all(orgs.splice(0).map((o) => o.stop()));
});

function client(
  fake: FakeOrg,
  credentials: OktaCredentials = { kind: 'ssws', token: TOKEN },
  share = 0.5,
  deps: ConstructorParameters<typeof SystemLogClient>[3] = {},
  scopes = [LOGS_SCOPE],
) {
  return new SystemLogClient(fake.url, new OktaAuth(fake.url, credentials, scopes), share, deps);
}
const oauth: OktaCredentials = {
  kind: 'privateKeyJwt',
  clientId: CLIENT_ID,
  privateKey,
  keyId: undefined,
};
const hourAgo = () => new Date(Date.now() - 3_600_000);

/** Follows next links until an empty page; every page's event texts. */
async function readAll(c: SystemLogClient, first: string, max = 100) {
  const pages: string[][] = [];
  let url = first;
  for (let i = 0; i < max; i++) {
    const page = await c.logPage(url);
    pages.push(page.events.map((e) => e.rawJson));
    if (page.events.length === 0 || !page.next) return { pages, next: page.next ?? url };
    url = page.next;
  }
  throw new Error('too many pages');
}

describe('paging', () => {
  it.each(['lines', 'joined'] as const)(
    'follows next links (Link as %s) until an empty page, every event exactly as the log holds it',
    async (linkStyle) => {
      const fake = await org({ linkStyle });
      fake.addEvents(oktaEvents({ types: ['user.session.start'], count: 2500 }));
      const c = client(fake);
      const { pages } = await readAll(c, c.logsUrl({ since: hourAgo() }));
      expect(pages.map((p) => p.length)).toEqual([1000, 1000, 500, 0]);
      expect(pages.flat()).toEqual(fake.eventTexts());

      const logs = fake.requests.filter((r) => r.path === '/api/v1/logs');
      expect(logs[0]!.query.get('since')).not.toBeNull();
      // Every later request is a next link as given: an opaque cursor, never since with after.
      for (const r of logs.slice(1)) {
        expect(r.query.get('since')).toBeNull();
        expect(r.query.get('after')).toMatch(/^\d+_\d+$/);
        expect(r.query.get('limit')).toBe('1000');
      }
      expect(c.requests).toBe(4);
    },
  );

  it('finds a late event (published earlier, persisted later) from the saved next link', async () => {
    const fake = await org();
    fake.addEvents(oktaEvents({ types: ['user.lifecycle.create'], count: 5 }));
    const c = client(fake);
    const { next } = await readAll(c, c.logsUrl({ since: hourAgo() }));
    const [late] = oktaEvents({
      types: ['user.lifecycle.create'],
      count: 1,
      until: new Date(Date.now() - 30 * 60_000),
    });
    fake.addEvents([late!]);
    const page = await c.logPage(next);
    expect(page.events.map((e) => e.event.uuid)).toEqual([late!.uuid]);
  });

  it('filters by event type in the request (SCIM) and reads bounded windows to their end', async () => {
    const fake = await org();
    const events = oktaEvents({
      types: ['user.session.start', 'user.lifecycle.create', 'group.user_membership.add'],
      count: 30,
      until: new Date(Date.now() - 60_000),
    });
    fake.addEvents(events);
    const c = client(fake);
    const filter = eventTypeFilter(['user.lifecycle.create', 'event_hook.delivery'])!;
    expect(filter).toBe(
      'eventType eq "event_hook.delivery" or eventType eq "user.lifecycle.create"',
    );
    const polled = await readAll(c, c.logsUrl({ since: hourAgo(), filter }));
    expect(polled.pages.flat().map((t) => JSON.parse(t).eventType)).toEqual(
      Array(10).fill('user.lifecycle.create'),
    );

    // Bounded: ordered by published, limit 4 a page, no next on the last page.
    const since = new Date(events[5]!.published);
    const until = new Date(events[17]!.published);
    let url: string | undefined = c.logsUrl({ since, until, limit: 4 });
    const bounded: string[] = [];
    let pages = 0;
    while (url) {
      const page = await c.logPage(url);
      bounded.push(...page.events.map((e) => e.event.uuid));
      url = page.next;
      pages++;
    }
    expect(bounded).toEqual(events.slice(5, 17).map((e) => e.uuid));
    expect(pages).toBe(3);
  });

  it('refuses to send credentials to a next link on another host', async () => {
    const fake = await org();
    const c = client(fake);
    await expect(c.logPage('https://evil.example.com/api/v1/logs?after=1_1')).rejects.toThrow(
      /points at https:\/\/evil\.example\.com, not at the org/,
    );
    expect(fake.requests).toHaveLength(0);
  });
});

describe('rate limits', () => {
  it('on a 429 waits until the announced reset, then goes on', async () => {
    const fake = await org({ rateLimit: { limit: 100, windowMs: 2000 } });
    fake.addEvents(oktaEvents({ types: ['user.session.start'], count: 3 }));
    fake.failNext(429);
    const c = client(fake);
    const page = await c.logPage(c.logsUrl({ since: hourAgo() }));
    expect(page.events).toHaveLength(3);
    const [refused, retried] = fake.requests;
    expect(refused!.status).toBe(429);
    expect(retried!.status).toBe(200);
    // The 429 announced the end of its 2 s window: the retry did not come before it.
    const windowEnd = Math.ceil((Math.floor(refused!.at / 2000) * 2000 + 2000) / 1000) * 1000;
    expect(retried!.at).toBeGreaterThanOrEqual(windowEnd);
    expect(c.rateLimited).toBe(1);
  });

  it('uses at most its share of each window (3 of 6 at 50%)', async () => {
    const fake = await org({ rateLimit: { limit: 6, windowMs: 2000 } });
    fake.addEvents(oktaEvents({ types: ['user.session.start'], count: 80 }));
    const c = client(fake, undefined, 0.5);
    const { pages } = await readAll(c, c.logsUrl({ since: hourAgo(), limit: 10 }));
    expect(pages.flat()).toHaveLength(80);
    const perWindow = new Map<number, number>();
    for (const r of fake.requests) {
      const window = Math.floor(r.at / 2000);
      perWindow.set(window, (perWindow.get(window) ?? 0) + 1);
    }
    expect(Math.max(...perWindow.values())).toBe(3);
    expect(fake.requests.every((r) => r.status === 200)).toBe(true);
  });

  it('stops with DeadlineReached instead of waiting past the deadline', async () => {
    const fake = await org({ rateLimit: { limit: 100, windowMs: 60_000 } });
    fake.failNext(429);
    const c = client(fake);
    await expect(
      c.logPage(c.logsUrl({ since: hourAgo() }), { deadline: Date.now() + 500 }),
    ).rejects.toBeInstanceOf(DeadlineReached);
  });

  it('retries a 5xx twice, then fails with a retryable error', async () => {
    const fake = await org();
    const waits: number[] = [];
    const noWait = { sleep: async (ms: number) => void waits.push(ms) };
    fake.failNext(500);
    const c = client(fake, undefined, 0.5, noWait);
    expect((await c.logPage(c.logsUrl({ since: hourAgo() }))).events).toEqual([]);
    fake.failNext(500, 3);
    const error = await c.logPage(c.logsUrl({ since: hourAgo() })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OktaApiError);
    expect(error).toMatchObject({ status: 500, retryable: true });
    expect((error as Error).message).toBe(
      'Okta answered 500 E0000009 to GET /api/v1/logs: Internal Server Error',
    );
    expect(waits).toHaveLength(3);
  });
});

describe('authentication', () => {
  it('refuses a wrong SSWS token with one line naming what to check, not the token', async () => {
    const fake = await org();
    const c = client(fake, { kind: 'ssws', token: 'wrong-token-value' });
    const error = (await c.logPage(c.logsUrl({ since: hourAgo() })).catch((e) => e)) as Error;
    expect(error.message).toBe(
      'Okta answered 401 E0000011 to GET /api/v1/logs: Invalid token provided — check the API token (OKTA_API_TOKEN)',
    );
  });

  it('private_key_jwt: the fake org accepts the assertion, and one token serves many requests', async () => {
    const fake = await org();
    fake.addEvents(oktaEvents({ types: ['user.session.start'], count: 1500 }));
    const c = client(fake, oauth);
    const { pages } = await readAll(c, c.logsUrl({ since: hourAgo() }));
    expect(pages.flat()).toHaveLength(1500);
    expect(fake.requests.map((r) => `${r.path} ${r.status} ${r.auth ?? ''}`)).toEqual([
      '/oauth2/v1/token 200 ',
      '/api/v1/logs 200 bearer',
      '/api/v1/logs 200 bearer',
      '/api/v1/logs 200 bearer',
    ]);
    expect(c.auth.tokenRequests).toBe(1);
  });

  it('asks for a new access token when the cached one is about to expire', async () => {
    const fake = await org({ accessTokenLifetimeSeconds: 2 });
    const c = client(fake, oauth);
    await c.logPage(c.logsUrl({ since: hourAgo() }));
    await c.logPage(c.logsUrl({ since: hourAgo() }));
    expect(c.auth.tokenRequests).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // renewed at half of a short life
    await c.logPage(c.logsUrl({ since: hourAgo() }));
    expect(c.auth.tokenRequests).toBe(2);
  });

  it('builds the assertion Okta asks for: RS256, iss = sub = client id, aud = token URL, exp ≤ 1 h', () => {
    const jwt = clientAssertion({
      clientId: CLIENT_ID,
      orgUrl: 'https://acme.okta.com',
      privateKey,
      keyId: 'k1',
    });
    const [header, claims] = jwt
      .split('.')
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
    expect(header).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'k1' });
    expect(claims).toMatchObject({
      iss: CLIENT_ID,
      sub: CLIENT_ID,
      aud: 'https://acme.okta.com/oauth2/v1/token',
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(claims.exp - claims.iat).toBeLessThanOrEqual(3600);
    expect(claims.exp).toBeGreaterThan(Date.now() / 1000);
  });

  it.each([
    [
      'a key the app does not have',
      { ...oauth, privateKey: other.privateKey },
      /invalid_client: The client_assertion signature is invalid/,
    ],
    [
      'another client id',
      { ...oauth, clientId: '0oaunknown' },
      /invalid_client: The client_id is invalid/,
    ],
  ])('refuses %s, in one line without key or assertion', async (_, credentials, message) => {
    const fake = await org();
    const c = client(fake, credentials as OktaCredentials);
    const error = (await c.logPage(c.logsUrl({ since: hourAgo() })).catch((e) => e)) as Error;
    expect(error).toBeInstanceOf(OktaApiError);
    expect(error.message).toMatch(/^Okta refused the token request of the service app /);
    expect(error.message).toMatch(message);
    // No assertion (a JWT starts eyJ), no key material.
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(error.message).not.toMatch(/eyJ|-----BEGIN/);
    expect(error.message).not.toContain(pem.split('\n')[1]!);
    expect(fake.requests.map((r) => r.path)).toEqual(['/oauth2/v1/token']);
  });

  it('the fake org checks aud, exp, lifetime and jti as Okta does', async () => {
    const fake = await org();
    const post = async (assertion: string) => {
      const response = await fetch(`${fake.url}/oauth2/v1/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          scope: LOGS_SCOPE,
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: assertion,
        }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, string> };
    };
    const base = { clientId: CLIENT_ID, orgUrl: fake.url, privateKey };
    const ok = clientAssertion(base);
    expect((await post(ok)).status).toBe(200);
    expect((await post(ok)).body.error_description).toMatch(/already been used/);
    expect(
      (await post(clientAssertion({ ...base, orgUrl: 'https://acme.okta.com' }))).body
        .error_description,
    ).toMatch(/audience/);
    expect(
      (await post(clientAssertion({ ...base, nowMs: Date.now() - 600_000 }))).body
        .error_description,
    ).toMatch(/expired/);
    expect(
      (await post(clientAssertion({ ...base, lifetimeSeconds: 7200 }))).body.error_description,
    ).toMatch(/too far into the future/);
  });

  it('names the scope to grant when the app lacks one', async () => {
    const fake = await org({ clients: [{ clientId: CLIENT_ID, publicKey, scopes: [LOGS_SCOPE] }] });
    const c = client(fake, oauth, 0.5, {}, [LOGS_SCOPE, EVENT_HOOKS_SCOPE]);
    await expect(c.eventHookTypes('who1')).rejects.toThrow(
      /invalid_scope: The following scopes are not allowed: okta\.eventHooks\.read \(grant the scopes okta\.logs\.read, okta\.eventHooks\.read on the app's Okta API Scopes tab\)/,
    );
  });
});

describe('event hooks', () => {
  it("reads the hook's event types, and names OKTA_EVENT_HOOK_ID for an unknown hook", async () => {
    const fake = await org();
    const c = client(fake, oauth, 0.5, {}, [LOGS_SCOPE, EVENT_HOOKS_SCOPE]);
    expect(await c.eventHookTypes('who1')).toEqual(['user.session.start', 'user.lifecycle.create']);
    await expect(c.eventHookTypes('whoNope')).rejects.toThrow(
      'Okta answered 404 E0000007 to GET /api/v1/eventHooks/whoNope: Not found: Resource not found: whoNope (EventHook) — check OKTA_EVENT_HOOK_ID',
    );
  });
});
