/**
 * Secrets of a deployed stage come from SSM Parameter Store at run time (a fake SSM speaking the
 * real protocol), are cached, follow a rotation, and never come from the environment there.
 */
import { loadConfig } from '../../lib/config';
import { SecretResolver } from '../../lib/secrets';
import { createVerificationHandler } from '../../lib/webhook/verification-endpoint';
import { v2Event } from '../helpers/api-gateway';
import { type FakeSsm, startFakeSsm } from '../helpers/fake-ssm';

const PATH = '/okta-event-hooks/production';
const OKTA_PARAMETER = `${PATH}/okta-auth-secret`;
const HOOKDECK_PARAMETER = `${PATH}/hookdeck-signing-secret`;
const FROM_SSM = 'Basic ZnJvbS1zc20=';
const FROM_ENV = 'Basic ZnJvbS1lbnY=';

let ssm: FakeSsm;
let lines: string[];
beforeAll(async () => {
  ssm = await startFakeSsm();
});
afterAll(() => ssm?.stop());
beforeEach(() => {
  ssm.parameters.clear();
  ssm.requests.length = 0;
  ssm.fail = false;
  lines = [];
  const capture = (line: unknown) => void lines.push(String(line));
  jest.spyOn(console, 'log').mockImplementation(capture);
  jest.spyOn(console, 'error').mockImplementation(capture);
});
afterEach(() => jest.restoreAllMocks());

/** A verification handler of the production stage, with a clock the test moves. */
function deployed() {
  const clock = { now: 1_000_000 };
  const config = loadConfig({
    STAGE: 'production',
    SECRETS_PATH: PATH,
    SSM_ENDPOINT: ssm.endpoint,
    SECRETS_CACHE_SECONDS: '300',
    // Present in the environment, and ignored: on a deployed stage only SSM counts.
    OKTA_AUTH_SECRET: FROM_ENV,
  });
  const secrets = new SecretResolver({ now: () => clock.now });
  const handler = createVerificationHandler({ config, secrets });
  const verify = async (authorization: string) => {
    const response = await handler(
      v2Event({
        method: 'GET',
        headers: { 'x-okta-verification-challenge': 'c', authorization },
      }),
    );
    return response;
  };
  return { clock, verify };
}

it('reads the webhook secrets from SSM once per cache period, never from the environment', async () => {
  ssm.parameters.set(OKTA_PARAMETER, FROM_SSM);
  const { verify } = deployed();
  expect((await verify(FROM_SSM)).statusCode).toBe(200);
  expect((await verify(FROM_ENV)).statusCode).toBe(401);
  expect((await verify(FROM_SSM)).statusCode).toBe(200);
  // One GetParameters for the two webhook secrets only: not the read API's token.
  expect(ssm.requests).toEqual([
    { target: 'AmazonSSM.GetParameters', names: [OKTA_PARAMETER, HOOKDECK_PARAMETER] },
  ]);
  expect(lines.join('\n')).not.toContain(FROM_SSM);
});

it('follows a rotation: both values during it, only the new one after, each within the cache period', async () => {
  const NEW = 'Basic bmV3LXNlY3JldA==';
  ssm.parameters.set(OKTA_PARAMETER, FROM_SSM);
  const { clock, verify } = deployed();
  expect((await verify(FROM_SSM)).statusCode).toBe(200);

  ssm.parameters.set(OKTA_PARAMETER, `${FROM_SSM}, ${NEW}`);
  expect((await verify(NEW)).statusCode).toBe(401); // still cached
  clock.now += 300_000;
  expect((await verify(NEW)).statusCode).toBe(200);
  expect((await verify(FROM_SSM)).statusCode).toBe(200);

  ssm.parameters.set(OKTA_PARAMETER, NEW);
  clock.now += 300_000;
  expect((await verify(FROM_SSM)).statusCode).toBe(401);
  expect((await verify(NEW)).statusCode).toBe(200);
  expect(ssm.requests).toHaveLength(3);
});

it.each([
  ['missing', undefined],
  ['empty', ' , '],
])(
  'refuses with 500 not_configured when the parameters are %s, naming nothing',
  async (_what, value) => {
    if (value !== undefined) ssm.parameters.set(OKTA_PARAMETER, value);
    const { verify } = deployed();
    const response = await verify(FROM_ENV);
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body!)).toEqual({
      error: 'not_configured',
      message: expect.any(String),
    });
    expect(response.body).not.toMatch(/okta-event-hooks|okta-auth-secret|OKTA_AUTH_SECRET/);
    // The operator's log line says where the secret is expected.
    expect(lines.join('\n')).toContain(`in SSM under ${PATH}`);
  },
);

it('answers 503 while SSM is down, and keeps the last values it read once it has some', async () => {
  ssm.parameters.set(OKTA_PARAMETER, FROM_SSM);
  ssm.fail = true;
  const { clock, verify } = deployed();
  const down = await verify(FROM_SSM);
  expect(down.statusCode).toBe(503);
  expect(JSON.parse(down.body!).error).toBe('temporarily_unavailable');

  ssm.fail = false;
  expect((await verify(FROM_SSM)).statusCode).toBe(200);
  ssm.fail = true;
  clock.now += 600_000;
  expect((await verify(FROM_SSM)).statusCode).toBe(200);
});

it('the local stage (no SECRETS_PATH) keeps reading secrets from the environment', async () => {
  const handler = createVerificationHandler({
    config: loadConfig({ OKTA_AUTH_SECRET: FROM_ENV, SSM_ENDPOINT: ssm.endpoint }),
  });
  const response = await handler(
    v2Event({
      method: 'GET',
      headers: { 'x-okta-verification-challenge': 'c', authorization: FROM_ENV },
    }),
  );
  expect(response.statusCode).toBe(200);
  expect(ssm.requests).toEqual([]);
});
