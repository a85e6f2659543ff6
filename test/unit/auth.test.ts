import {
  authenticate,
  authenticateReader,
  hookdeckSignature,
  matchesAny,
} from '../../lib/http/auth';
import { signSession } from '../../lib/http/session';
import { createVerificationHandler } from '../../lib/webhook/verification-endpoint';
import { createReadApiHandler } from '../../lib/read-api/read-api';
import { loadConfig } from '../../lib/config';
import { RequestError } from '../../lib/errors';
import { type RequestSpec, v1Event, v2Event } from '../helpers/api-gateway';

const body = Buffer.from('{"eventType":"com.okta.event_hook"}');
const okta = (secrets: string[], header = 'authorization') => ({
  oktaAuthHeader: header,
  oktaAuthSecrets: secrets,
  hookdeckSigningSecrets: [] as string[],
});

function refused(fn: () => unknown): RequestError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RequestError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('matchesAny', () => {
  it('matches only an equal value, whatever the lengths', () => {
    expect(matchesAny('secret', ['other', 'secret'])).toBe(true);
    expect(matchesAny('secret', ['secreT', 'secret ', 'secre', ''])).toBe(false);
    expect(matchesAny('', ['x'])).toBe(false);
    expect(matchesAny('x', [])).toBe(false);
  });
});

describe('Okta shared secret', () => {
  it('accepts any of the rotation values', () => {
    expect(
      authenticate({ authorization: 'Basic new' }, body, okta(['Basic old', 'Basic new'])),
    ).toBe('okta');
    expect(
      authenticate({ authorization: 'Basic old' }, body, okta(['Basic old', 'Basic new'])),
    ).toBe('okta');
  });

  it.each([
    [{}, /no authorization header/],
    [{ authorization: '' }, /no authorization header/],
    [{ authorization: 'Basic ol' }, /does not hold an accepted secret/],
    [{ authorization: 'Basic old2' }, /does not hold an accepted secret/],
    [{ authorization: 'basic old' }, /does not hold an accepted secret/],
    [{ authorization: 'Basic old, Basic old' }, /does not hold an accepted secret/],
  ])('refuses %j with 401', (headers, message) => {
    const error = refused(() => authenticate(headers, body, okta(['Basic old'])));
    expect(error.statusCode).toBe(401);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('Basic old');
  });

  it('reads the configured header name', () => {
    expect(authenticate({ 'x-okta-secret': 's3' }, body, okta(['s3'], 'x-okta-secret'))).toBe(
      'okta',
    );
    expect(
      refused(() => authenticate({ authorization: 's3' }, body, okta(['s3'], 'x-okta-secret')))
        .message,
    ).toMatch(/no x-okta-secret header/);
  });
});

describe('Hookdeck signature', () => {
  const hookdeck = (okta: string[] = []) => ({
    oktaAuthHeader: 'authorization',
    oktaAuthSecrets: okta,
    hookdeckSigningSecrets: ['whsec_old', 'whsec_new'],
  });

  it('computes base64(HMAC-SHA256(raw body))', () => {
    // Reference value from: printf '%s' 'hello' | openssl dgst -sha256 -hmac key -binary | base64
    expect(hookdeckSignature(Buffer.from('hello'), 'key')).toBe(
      'kwezuRXvtRcf8U2MtV+8x5jGwO8UVtZt7RpqpyOli3s=',
    );
  });

  it('accepts a signature by any rotation value, in either signature header', () => {
    expect(
      authenticate(
        { 'x-hookdeck-signature': hookdeckSignature(body, 'whsec_new') },
        body,
        hookdeck(),
      ),
    ).toBe('hookdeck');
    expect(
      authenticate(
        {
          'x-hookdeck-signature': 'stale',
          'x-hookdeck-signature-2': hookdeckSignature(body, 'whsec_old'),
        },
        body,
        hookdeck(),
      ),
    ).toBe('hookdeck');
  });

  it('refuses a signature over another body, a missing one, and one by another secret', () => {
    const other = Buffer.from('{"eventType":"com.okta.event_hook" }');
    expect(
      refused(() =>
        authenticate(
          { 'x-hookdeck-signature': hookdeckSignature(other, 'whsec_new') },
          body,
          hookdeck(),
        ),
      ).statusCode,
    ).toBe(401);
    expect(refused(() => authenticate({}, body, hookdeck())).message).toMatch(
      /no x-hookdeck-signature/,
    );
    expect(
      refused(() =>
        authenticate({ 'x-hookdeck-signature': hookdeckSignature(body, 'nope') }, body, hookdeck()),
      ).statusCode,
    ).toBe(401);
  });

  it('does not stand in for the Okta secret when one is configured', () => {
    const signature = hookdeckSignature(body, 'whsec_new');
    expect(
      refused(() =>
        authenticate({ 'x-hookdeck-signature': signature }, body, hookdeck(['Basic s'])),
      ).message,
    ).toMatch(/no authorization header/);
    expect(
      authenticate(
        { 'x-hookdeck-signature': signature, authorization: 'Basic s' },
        body,
        hookdeck(['Basic s']),
      ),
    ).toBe('hookdeck');
    // Direct from Okta, no Hookdeck in between: the Okta secret alone is enough.
    expect(authenticate({ authorization: 'Basic s' }, body, hookdeck(['Basic s']))).toBe('okta');
  });

  it('ignores signature headers when no signing secret is configured', () => {
    expect(
      authenticate({ 'x-hookdeck-signature': 'anything', authorization: 's' }, body, okta(['s'])),
    ).toBe('okta');
  });
});

describe('verification handler (GET), payload v2 and v1', () => {
  const config = loadConfig({ STAGE: 'dev', OKTA_AUTH_SECRET: 'Basic c2VjcmV0' });
  const handler = createVerificationHandler({ config });
  beforeEach(() => jest.spyOn(console, 'log').mockImplementation(() => undefined));
  beforeEach(() => jest.spyOn(console, 'error').mockImplementation(() => undefined));
  afterEach(() => jest.restoreAllMocks());

  const cases: Array<[string, (spec: RequestSpec) => Parameters<typeof handler>[0]]> = [
    ['v2', v2Event],
    ['v1', v1Event],
  ];

  it.each(cases)(
    '%s: answers the challenge with the secret, in any header casing',
    async (_v, make) => {
      const response = await handler(
        make({
          method: 'GET',
          headers: {
            'X-Okta-Verification-Challenge': 'chal-123',
            Authorization: 'Basic c2VjcmV0',
            Accept: 'application/json',
          },
        }),
      );
      expect(response.statusCode).toBe(200);
      expect(response.headers?.['content-type']).toBe('application/json');
      expect(JSON.parse(response.body!)).toEqual({ verification: 'chal-123' });
    },
  );

  it.each(cases)('%s: 401 without the secret, 400 without a challenge', async (_v, make) => {
    const noSecret = await handler(
      make({ method: 'GET', headers: { 'X-Okta-Verification-Challenge': 'c' } }),
    );
    expect(noSecret.statusCode).toBe(401);
    expect(JSON.parse(noSecret.body!)).toEqual({
      error: 'unauthorized',
      message: 'The request has no authorization header.',
    });
    const noChallenge = await handler(
      make({ method: 'GET', headers: { Authorization: 'Basic c2VjcmV0' } }),
    );
    expect(noChallenge.statusCode).toBe(400);
    expect(JSON.parse(noChallenge.body!).error).toBe('missing_challenge');
  });

  it('a deployed stage with no secret refuses every request with 500 not_configured', async () => {
    const open = createVerificationHandler({ config: loadConfig({ STAGE: 'production' }) });
    const response = await open(
      v2Event({ method: 'GET', headers: { 'x-okta-verification-challenge': 'c' } }),
    );
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body!).error).toBe('not_configured');
  });

  it('the local stage with no secret answers, open, under serverless offline', async () => {
    // What serverless offline puts in every handler's environment (LambdaFunction.js).
    const offline = {
      IS_OFFLINE: 'true',
      AWS_LAMBDA_FUNCTION_NAME: 'okta-event-hooks-local-verify',
    };
    const open = createVerificationHandler({ config: loadConfig(offline) });
    const response = await open(
      v2Event({ method: 'GET', headers: { 'x-okta-verification-challenge': 'c' } }),
    );
    expect(response.statusCode).toBe(200);
  });
});

/**
 * `serverless deploy` without --stage deploys the `local` stage: there, with no secret, the
 * handlers must refuse as on any deployed stage. Open only under serverless offline.
 */
describe('the open mode needs serverless offline, not just the local stage', () => {
  beforeEach(() => jest.spyOn(console, 'error').mockImplementation(() => undefined));
  afterEach(() => jest.restoreAllMocks());
  // A real Lambda's reserved variables (nodejs24.x); AWS_LAMBDA_FUNCTION_NAME is set there too.
  const lambda = {
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
    AWS_LAMBDA_FUNCTION_NAME: 'okta-event-hooks-local-verify',
  };
  const notOffline: [string, NodeJS.ProcessEnv][] = [
    ['no IS_OFFLINE (in-process, or deployed as is)', {}],
    ['no IS_OFFLINE, on Lambda', lambda],
    ['IS_OFFLINE written into a deployed function', { ...lambda, IS_OFFLINE: 'true' }],
    ['IS_OFFLINE with only AWS_EXECUTION_ENV', { IS_OFFLINE: 'true', AWS_EXECUTION_ENV: 'x' }],
    [
      'IS_OFFLINE with only AWS_LAMBDA_RUNTIME_API',
      { IS_OFFLINE: 'true', AWS_LAMBDA_RUNTIME_API: 'x' },
    ],
    ['IS_OFFLINE=false', { IS_OFFLINE: 'false' }],
  ];

  it.each(notOffline)('%s: verification refuses with 500 not_configured', async (_what, env) => {
    const handler = createVerificationHandler({ config: loadConfig({ STAGE: 'local', ...env }) });
    const response = await handler(
      v2Event({ method: 'GET', headers: { 'x-okta-verification-challenge': 'c' } }),
    );
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body!).error).toBe('not_configured');
  });

  it.each(notOffline)('%s: the read API without a token is off (403)', async (_what, env) => {
    const handler = createReadApiHandler({ config: loadConfig({ STAGE: 'local', ...env }) });
    const response = await handler(v2Event({ method: 'GET', path: '/events' }));
    expect(response.statusCode).toBe(403);
    expect(JSON.parse(response.body!).error).toBe('read_api_disabled');
  });

  it('another stage is never open, even under serverless offline', async () => {
    const config = loadConfig({ STAGE: 'staging', IS_OFFLINE: 'true' });
    const handler = createVerificationHandler({ config });
    const response = await handler(
      v2Event({ method: 'GET', headers: { 'x-okta-verification-challenge': 'c' } }),
    );
    expect(response.statusCode).toBe(500);
  });
});

describe('the read API session cookie, from other origins', () => {
  const config = { mayRunOpen: false, eventsApiTokens: ['reader-token-0123456789abcdef01234'] };
  const cookie = `okta-events-session=${signSession(config.eventsApiTokens[0]!, 4102444800)}`;
  const host = 'events.example.com';

  it('is accepted from the same origin, from a typed URL, and from scripts', () => {
    const cases: Record<string, string>[] = [
      { 'sec-fetch-site': 'same-origin', origin: `https://${host}` },
      { 'sec-fetch-site': 'none' },
      {},
    ];
    for (const extra of cases) {
      expect(authenticateReader({ host, cookie, ...extra }, config)).toBe('session');
    }
  });

  it('is refused (403) from another port of the same host, another site, or a null origin', () => {
    const cases: Record<string, string>[] = [
      { 'sec-fetch-site': 'same-site' }, // another port of localhost is the same site
      { 'sec-fetch-site': 'cross-site' },
      { origin: 'http://events.example.com:39005' },
      { origin: 'null' },
    ];
    for (const extra of cases) {
      let error: unknown;
      try {
        authenticateReader({ host, cookie, ...extra }, config);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(RequestError);
      expect(error).toMatchObject({ statusCode: 403, code: 'cross_origin' });
    }
  });

  it('does not concern a bearer token, which no other page can hold', () => {
    const headers = {
      host,
      origin: 'https://elsewhere.example',
      'sec-fetch-site': 'cross-site',
      authorization: `Bearer ${config.eventsApiTokens[0]}`,
    };
    expect(authenticateReader(headers, config)).toBe('reader');
  });
});
