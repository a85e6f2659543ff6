/**
 * The fake org's Event Hooks API over real HTTP: Okta's shapes, statuses and rules (DESIGN.md
 * §14), a verification that really calls the endpoint, and deliveries to verified hooks with
 * failures in the System Log. The endpoint is a small real HTTP server.
 */
import { generateKeyPairSync } from 'node:crypto';
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OktaAuth } from '../../lib/okta/okta-auth';
import { type FakeOrg, startFakeOktaOrg } from '../../lib/okta-simulator/fake-org';
import { runScript } from '../helpers/run';

const TOKEN = '00fakeHooksToken';
const SECRET = 'Basic aG9va3M6c2VjcmV0';
let org: FakeOrg;
let endpoint: Server;
let endpointUrl: string;
/** What the endpoint answers; `seen` every request it got. */
let answer: 'ok' | 'down' = 'ok';
const seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders; body: string }> = [];

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

beforeAll(async () => {
  endpoint = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      if (answer === 'down') return void res.writeHead(503).end();
      if (req.headers.authorization !== SECRET) return void res.writeHead(401).end();
      const challenge = req.headers['x-okta-verification-challenge'];
      if (req.method === 'GET') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        return void res.end(JSON.stringify({ verification: challenge }));
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
  endpointUrl = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/hook`;
  org = await startFakeOktaOrg({
    apiToken: TOKEN,
    hookTimeoutMs: 500,
    rateLimit: { limit: 10_000, windowMs: 60_000 },
    clients: [
      { clientId: 'reader', publicKey, scopes: ['okta.eventHooks.read'] },
      { clientId: 'manager', publicKey, scopes: ['okta.eventHooks.manage'] },
    ],
  });
});

afterAll(async () => {
  await org?.stop();
  await new Promise((resolve) => endpoint?.close(resolve));
});

beforeEach(() => {
  answer = 'ok';
  seen.length = 0;
});

async function api(method: string, path: string, body?: unknown, authorization = `SSWS ${TOKEN}`) {
  const response = await fetch(`${org.url}/api/v1/eventHooks${path}`, {
    method,
    headers: { Authorization: authorization, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined, text };
}

function definition(overrides: { uri?: string; items?: string[]; secret?: string } = {}) {
  return {
    name: 'okta-event-hooks-test',
    events: { type: 'EVENT_TYPE', items: overrides.items ?? ['user.lifecycle.create'] },
    channel: {
      type: 'HTTP',
      version: '1.0.0',
      config: {
        uri: overrides.uri ?? endpointUrl,
        headers: [],
        authScheme: { type: 'HEADER', key: 'Authorization', value: overrides.secret ?? SECRET },
      },
    },
  };
}

it('creates ACTIVE + UNVERIFIED, never returns the secret, verifies by calling the endpoint', async () => {
  const created = await api('POST', '', definition());
  expect(created.status).toBe(200);
  expect(created.json).toMatchObject({
    status: 'ACTIVE',
    verificationStatus: 'UNVERIFIED',
    events: { type: 'EVENT_TYPE', items: ['user.lifecycle.create'], filter: null },
    channel: { config: { method: 'POST', authScheme: { type: 'HEADER', key: 'Authorization' } } },
  });
  expect(created.text).not.toContain(SECRET);
  const id = created.json.id as string;

  const verified = await api('POST', `/${id}/lifecycle/verify`);
  expect(verified.status).toBe(200);
  expect(verified.json.verificationStatus).toBe('VERIFIED');
  expect(seen).toHaveLength(1);
  expect(seen[0]!.method).toBe('GET');
  expect(seen[0]!.headers['x-okta-verification-challenge']).toBeTruthy();
  expect(seen[0]!.headers.authorization).toBe(SECRET);

  const listed = await api('GET', '');
  expect(listed.json.map((h: { id: string }) => h.id)).toContain(id);
  expect(listed.text).not.toContain(SECRET);

  // Same channel: still verified. New URI: UNVERIFIED again.
  const sameChannel = await api('PUT', `/${id}`, definition({ items: ['user.session.start'] }));
  expect(sameChannel.json.verificationStatus).toBe('VERIFIED');
  const moved = await api('PUT', `/${id}`, definition({ uri: `${endpointUrl}/moved` }));
  expect(moved.json.verificationStatus).toBe('UNVERIFIED');

  // Delete only when INACTIVE.
  const refused = await api('DELETE', `/${id}`);
  expect(refused.status).toBe(400);
  expect(refused.json.errorCode).toBe('E0000001');
  expect((await api('POST', `/${id}/lifecycle/deactivate`)).json.status).toBe('INACTIVE');
  expect((await api('DELETE', `/${id}`)).status).toBe(204);
  expect((await api('GET', `/${id}`)).json.errorCode).toBe('E0000007');
});

it('answers 400 when verification fails, after one retry', async () => {
  const id = (await api('POST', '', definition({ secret: 'Basic wrong' }))).json.id as string;
  const failed = await api('POST', `/${id}/lifecycle/verify`);
  expect(failed.status).toBe(400);
  expect(failed.json.errorCauses[0].errorSummary).toMatch(
    /^Unable to verify event hook: status 401/,
  );
  answer = 'down';
  seen.length = 0;
  await api('POST', `/${id}/lifecycle/verify`);
  expect(seen).toHaveLength(2); // 503, then Okta's one retry
  await api('POST', `/${id}/lifecycle/deactivate`);
  await api('DELETE', `/${id}`);
});

it('enforces scopes: read for GET, manage for changes (403 E0000006), SSWS allowed', async () => {
  const bearer = async (clientId: string, scope: string) =>
    new OktaAuth(org.url, { kind: 'privateKeyJwt', clientId, privateKey, keyId: undefined }, [
      scope,
    ]).authorization();
  const reader = await bearer('reader', 'okta.eventHooks.read');
  expect((await api('GET', '', undefined, reader)).status).toBe(200);
  const write = await api('POST', '', definition(), reader);
  expect(write.status).toBe(403);
  expect(write.json.errorCode).toBe('E0000006');
  const manager = await bearer('manager', 'okta.eventHooks.manage');
  const created = await api('POST', '', definition(), manager);
  expect(created.status).toBe(200);
  expect((await api('GET', `/${created.json.id}`, undefined, manager)).status).toBe(200);
  await api('POST', `/${created.json.id}/lifecycle/deactivate`);
  await api('DELETE', `/${created.json.id}`);
});

it('refuses more than 300 event types and a 26th active hook', async () => {
  const many = Array.from({ length: 301 }, (_, i) => `user.type${i}`);
  expect(
    (await api('POST', '', definition({ items: many }))).json.errorCauses[0].errorSummary,
  ).toMatch(/at most 300 event types/);
  const ids: string[] = [];
  for (let i = 0; i < 25; i++) ids.push((await api('POST', '', definition())).json.id);
  const refused = await api('POST', '', definition());
  expect(refused.status).toBe(400);
  expect(refused.json.errorCauses[0].errorSummary).toMatch(/at most 25 active event hooks/);
  for (const id of ids) {
    await api('POST', `/${id}/lifecycle/deactivate`);
    await api('DELETE', `/${id}`);
  }
});

it('delivers emitted events to verified subscribed hooks with the current secret; failures go to the System Log', async () => {
  const id = (await api('POST', '', definition({ items: ['user.session.start'] }))).json.id;
  const unverified = (await api('POST', '', definition())).json.id;
  await api('POST', `/${id}/lifecycle/verify`);
  seen.length = 0;
  const result = await org.emit({
    types: ['user.session.start', 'user.lifecycle.create'],
    count: 4,
  });
  expect(result.hooks).toEqual([{ hookId: id, deliveries: 2, accepted: 2, failed: 0 }]);
  expect(seen.map((r) => r.headers.authorization)).toEqual([SECRET, SECRET]);
  const envelope = JSON.parse(seen[0]!.body);
  expect(envelope).toMatchObject({
    eventType: 'com.okta.event_hook',
    source: `${org.url}/api/v1/eventHooks/${id}`,
    data: { events: [{ eventType: 'user.session.start' }] },
  });

  answer = 'down';
  const down = await org.emit({ types: ['user.session.start'], count: 1 });
  expect(down.hooks).toEqual([{ hookId: id, deliveries: 1, accepted: 0, failed: 1 }]);
  const failure = org
    .eventTexts()
    .map((t) => JSON.parse(t))
    .find((e) => e.eventType === 'event_hook.delivery');
  expect(failure).toMatchObject({
    outcome: { result: 'FAILURE', reason: 'endpoint answered 503 → 503' },
    target: [{ id, type: 'EventHook' }],
  });
  for (const hook of [id, unverified]) {
    await api('POST', `/${hook}/lifecycle/deactivate`);
    await api('DELETE', `/${hook}`);
  }
});

it("send --org: the events go to the System Log and through the org's hooks too, except the hook at --url", async () => {
  const id = (await api('POST', '', definition({ items: ['user.session.start'] }))).json.id;
  await api('POST', `/${id}/lifecycle/verify`);
  seen.length = 0;
  const logged = org.eventTexts().length;
  const send = (url: string) =>
    runScript('scripts/okta.ts', [
      'send',
      '--url',
      url,
      '--org',
      org.url,
      '--type',
      'user.session.start',
      '--count',
      '2',
      '--secret',
      SECRET,
    ]);

  const elsewhere = await send(`${endpointUrl}/direct`);
  expect(elsewhere.stderr).toBe('');
  expect(elsewhere.code).toBe(0);
  expect(elsewhere.stdout).toContain(`hook ${id}: 2 deliveries, accepted 2, failed 0\n`);
  expect(org.eventTexts().length).toBe(logged + 2);
  const posts = seen.filter((r) => r.method === 'POST');
  expect(posts.map((r) => r.url).sort()).toEqual([
    '/hook',
    '/hook',
    '/hook/direct',
    '/hook/direct',
  ]);
  const viaHook = posts.filter((r) => r.url === '/hook').map((r) => JSON.parse(r.body));
  expect(viaHook.map((e) => e.source)).toEqual([
    `${org.url}/api/v1/eventHooks/${id}`,
    `${org.url}/api/v1/eventHooks/${id}`,
  ]);
  // The same events as send delivered itself (the System Log's, by uuid).
  const direct = posts.filter((r) => r.url === '/hook/direct').map((r) => JSON.parse(r.body));
  const uuids = (envelopes: Array<{ data: { events: Array<{ uuid: string }> } }>) =>
    envelopes.flatMap((e) => e.data.events.map((v) => v.uuid)).sort();
  expect(uuids(viaHook)).toEqual(uuids(direct));

  // send --url at the hook's own endpoint plays that hook: no second delivery through it.
  seen.length = 0;
  const same = await send(endpointUrl);
  expect(same.code).toBe(0);
  expect(same.stdout).not.toContain(`hook ${id}:`);
  expect(seen.filter((r) => r.method === 'POST')).toHaveLength(2);
  await api('POST', `/${id}/lifecycle/deactivate`);
  await api('DELETE', `/${id}`);
}, 60_000);
