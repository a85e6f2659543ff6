import { generateKeyPairSync } from 'node:crypto';
import { loadConfig, parseOrgUrl } from '../../lib/config';
import { ConfigError } from '../../lib/errors';
import { parsePrivateKey } from '../../lib/okta/okta-auth';
import { oktaCredentials } from '../../lib/reconcile/reconciler';

describe('OKTA_ORG_URL', () => {
  it.each([
    ['https://acme.okta.com', 'https://acme.okta.com'],
    ['https://acme.okta.com/', 'https://acme.okta.com'],
    ['  https://ACME.oktapreview.com ', 'https://acme.oktapreview.com'],
    ['http://127.0.0.1:7070', 'http://127.0.0.1:7070'],
    ['http://localhost:7070/', 'http://localhost:7070'],
  ])('accepts %j as %j', (raw, origin) => {
    expect(parseOrgUrl(raw)).toBe(origin);
  });

  it.each([
    ['acme.okta.com', /must be the org's URL, such as https:\/\/acme\.okta\.com/],
    ['http://acme.okta.com', /must be an https:\/\/ URL \(http:\/\/ only for localhost\)/],
    ['https://acme.okta.com/api/v1', /no path, query or credentials/],
    ['https://user:pw@acme.okta.com', /no path, query or credentials/],
    ['https://acme-admin.okta.com', /Admin Console's address/],
  ])('refuses %j', (raw, message) => {
    expect(() => parseOrgUrl(raw)).toThrow(ConfigError);
    expect(() => parseOrgUrl(raw)).toThrow(message);
  });
});

describe('reconciler configuration', () => {
  it('has defaults: not configured, 24 h lookback, half the rate limit, every 5 min locally', () => {
    expect(loadConfig({})).toMatchObject({
      oktaOrgUrl: undefined,
      oktaEventTypes: [],
      systemLogLookbackHours: 24,
      systemLogRateLimitShare: 0.5,
      reconcileIntervalSeconds: 300,
    });
  });

  it('reads the event types as a list, and refuses what cannot be a type', () => {
    expect(
      loadConfig({ OKTA_EVENT_TYPES: 'user.session.start, user.lifecycle.create,' }).oktaEventTypes,
    ).toEqual(['user.session.start', 'user.lifecycle.create']);
    expect(() => loadConfig({ OKTA_EVENT_TYPES: 'user.session.start or x' })).toThrow(
      'OKTA_EVENT_TYPES must be a comma list of Okta event types such as user.session.start, got "user.session.start or x"',
    );
  });

  it.each([
    [{ SYSTEM_LOG_LOOKBACK_HOURS: '2161' }, /at most 2160 \(the System Log keeps 90 days\)/],
    [
      { SYSTEM_LOG_LOOKBACK_HOURS: '0' },
      /SYSTEM_LOG_LOOKBACK_HOURS must be a positive whole number/,
    ],
    [{ SYSTEM_LOG_RATE_LIMIT_SHARE: '0' }, /above 0 and at most 1/],
    [{ SYSTEM_LOG_RATE_LIMIT_SHARE: '1.5' }, /above 0 and at most 1/],
    [{ RECONCILE_INTERVAL_SECONDS: '-1' }, /0 or more/],
  ])('refuses %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe('credentials', () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const pkcs1 = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const jwk = JSON.stringify({ ...privateKey.export({ format: 'jwk' }), kid: 'key-7' });

  it.each([
    ['PKCS#8 PEM', pkcs8, undefined],
    ['PKCS#1 PEM', pkcs1, undefined],
    ['PEM on one line with \\n', pkcs8.replace(/\n/g, '\\n'), undefined],
    ['a private JWK with its kid', jwk, 'key-7'],
  ])('reads the private key as %s', (_, text, kid) => {
    const { key, keyId } = parsePrivateKey(text);
    expect(key.asymmetricKeyType).toBe('rsa');
    expect(key.type).toBe('private');
    expect(keyId).toBe(kid);
  });

  it('refuses what is not an RSA private key, without repeating the value', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    expect(() => parsePrivateKey(ec)).toThrow(
      "OKTA_PRIVATE_KEY is a ec key: Okta's service apps sign client assertions with RSA (RS256)",
    );
    const publicJwk = JSON.stringify(privateKey.export({ format: 'jwk' }), ['kty', 'n', 'e']);
    for (const bad of ['not-a-key-s3cr3t', publicJwk]) {
      const error = (() => {
        try {
          parsePrivateKey(bad);
        } catch (e) {
          return e as Error;
        }
      })();
      expect(error?.message).toMatch(/^OKTA_PRIVATE_KEY is not a private key: /);
      expect(error?.message).not.toContain(bad.slice(0, 12));
    }
  });

  it('prefers the service app to an API token, and says what is missing', () => {
    const both = loadConfig({
      OKTA_ORG_URL: 'https://acme.okta.com',
      OKTA_CLIENT_ID: '0oa1',
      OKTA_PRIVATE_KEY: jwk,
      OKTA_API_TOKEN: 'token',
    });
    expect(oktaCredentials(both)).toMatchObject({ kind: 'privateKeyJwt', keyId: 'key-7' });
    expect(oktaCredentials({ ...both, oktaKeyId: 'from-env' })).toMatchObject({
      keyId: 'from-env',
    });
    expect(
      oktaCredentials({ ...both, oktaClientId: undefined, oktaPrivateKey: undefined }),
    ).toEqual({
      kind: 'ssws',
      token: 'token',
    });
    expect(() => oktaCredentials({ ...both, oktaClientId: undefined })).toThrow(
      'OKTA_PRIVATE_KEY is set without OKTA_CLIENT_ID (the service app)',
    );
    expect(() =>
      oktaCredentials({
        ...both,
        oktaClientId: undefined,
        oktaPrivateKey: undefined,
        oktaApiToken: undefined,
        secretsPath: '/okta-event-hooks/production',
      }),
    ).toThrow(
      /^no Okta credentials in SSM under \/okta-event-hooks\/production: set OKTA_CLIENT_ID/,
    );
  });
});
