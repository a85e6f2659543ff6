/**
 * `npm run okta` against the real local stack (serverless offline + DynamoDB Local on free
 * ports): verification, bursts with redeliveries stored exactly once, Hookdeck signatures,
 * Preview, and the README's "Try it without Okta" walkthrough.
 */
import { allItems } from '../helpers/dynamodb';
import { type TestStack, startTestStack } from '../helpers/offline';
import { runScript } from '../helpers/run';

const SECRET = 'Basic c2ltdWxhdG9yOnNlY3JldA==';
const SIGNING = 'whsec_simulator';
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ OKTA_AUTH_SECRET: SECRET, HOOKDECK_SIGNING_SECRET: SIGNING });
}, 120_000);

afterAll(async () => {
  expect(await stack?.stop()).toEqual([]);
});

const okta = (...args: string[]) => runScript('scripts/okta.ts', args);
/** `npm run events`, once the stream has stored what was received. */
const events = async (...args: string[]) => {
  await stack.streams.idle();
  return runScript('scripts/events.ts', args, { DYNAMODB_ENDPOINT: stack.db.local.endpoint });
};

async function storedUuids(): Promise<Set<string>> {
  await stack.streams.idle();
  const items = await allItems(stack.db.client, stack.tableName);
  return new Set(items.filter((i) => i.pk?.S?.startsWith('EVENT#')).map((i) => i.uuid!.S!));
}

function summaryOf(stdout: string): Record<string, number> {
  const line = stdout.split('\n').find((l) => l.startsWith('requests '))!;
  return Object.fromEntries(
    [...line.matchAll(/(requests|events|accepted|retried|refused|failed) (\d+)/g)].map((m) => [
      m[1]!,
      Number(m[2]),
    ]),
  );
}

it('verifies the endpoint as Okta does, and fails it with a wrong secret', async () => {
  const ok = await okta('verify', '--url', stack.url, '--secret', SECRET);
  expect(ok.stdout.trim()).toBe('VERIFIED');
  expect(ok.code).toBe(0);

  const wrong = await okta('verify', '--url', stack.url, '--secret', 'Basic wrong');
  expect(wrong.stdout.trim()).toMatch(
    /^NOT VERIFIED: status 401, expected 200 \(body: .*unauthorized/,
  );
  expect(wrong.code).toBe(1);
});

it('stores exactly the unique events of a burst with redeliveries', async () => {
  const before = await storedUuids();
  const result = await okta(
    'send',
    '--url',
    stack.url,
    '--secret',
    SECRET,
    '--type',
    'all',
    '--count',
    '40',
    '--per-request',
    '7',
    '--duplicates',
    '0.5',
    '--concurrency',
    '3',
  );
  expect(result.code).toBe(0);
  expect(summaryOf(result.stdout)).toEqual({
    requests: 9, // 6 deliveries + 3 redeliveries
    events: 40,
    accepted: 9,
    retried: expect.any(Number),
    refused: 0,
    failed: 0,
  });
  expect(result.stdout.match(/redelivery of #\d+/g)).toHaveLength(3);
  const after = await storedUuids();
  expect(after.size - before.size).toBe(40);
  expect(result.stdout + result.stderr).not.toContain('c2ltdWxhdG9yOnNlY3JldA');
});

it('via Hookdeck: the right signing secret is accepted (204), a wrong one refused (401)', async () => {
  const before = await storedUuids();
  const args = [
    'send',
    '--url',
    stack.url,
    '--secret',
    SECRET,
    '--type',
    'user.session.start',
    '--count',
    '3',
    '--per-request',
    '3',
    '--via-hookdeck',
  ];
  const right = await okta(...args, '--signing-secret', SIGNING);
  expect(right.stdout).toMatch(/^\[1\/1\] {2}204 accepted {2}3 events user\.session\.start/);
  expect(right.code).toBe(0);
  expect((await storedUuids()).size - before.size).toBe(3);

  const wrong = await okta(...args, '--signing-secret', 'whsec_wrong');
  expect(wrong.stdout).toMatch(
    /^\[1\/1\] {2}401 refused: The x-hookdeck-signature header does not match the request body\./,
  );
  expect(wrong.stdout).toContain('LOST 3 of 3 events');
  expect(wrong.code).toBe(1);
  expect((await storedUuids()).size - before.size).toBe(3);
});

it('stores a Preview delivery (null actor and target, outcome "Success")', async () => {
  const result = await okta(
    'preview',
    '--url',
    stack.url,
    '--secret',
    SECRET,
    '--type',
    'user.lifecycle.create',
  );
  expect(result.stdout).toMatch(/^preview {2}204 accepted {2}uuid [\w-]+/);
  expect(result.code).toBe(0);
  const uuid = result.stdout.match(/uuid ([\w-]+)/)![1]!;
  const got = await events('get', uuid);
  expect(got.code).toBe(0);
  expect(JSON.parse(got.stdout)).toMatchObject({
    uuid,
    actor: null,
    target: null,
    outcome: { result: 'Success' },
  });
});

it('walks the README: create Jane Doe, then find her event with npm run events', async () => {
  const created = await okta(
    'send',
    '--url',
    stack.url,
    '--secret',
    SECRET,
    '--type',
    'user.lifecycle.create',
    '--user',
    'jane.doe@hookdeckexample.com',
  );
  expect(created.code).toBe(0);
  const uuid = created.stdout.match(/1 event user\.lifecycle\.create uuid ([\w-]+)/)![1]!;

  const listed = await events('list', '--limit', '1');
  expect(listed.stdout.trim()).toMatch(
    new RegExp(
      `^${uuid}\\s+\\S+\\s+user\\.lifecycle\\.create\\s+alex\\.admin@example\\.com\\s+jane\\.doe@hookdeckexample\\.com$`,
    ),
  );
  const got = await events('get', uuid);
  expect(JSON.parse(got.stdout)).toMatchObject({
    eventType: 'user.lifecycle.create',
    displayMessage: 'Create Okta user',
    target: [
      { type: 'User', alternateId: 'jane.doe@hookdeckexample.com', displayName: 'Jane Doe' },
    ],
  });
});
