/** Config.signIn: OKTA_ISSUER's refusals, the on/off settings, the read API's token policy lists. */
import { DEFAULT_API_AUDIENCE, DEFAULT_API_SCOPE, loadConfig, parseIssuer } from '../../lib/config';
import { ConfigError } from '../../lib/errors';
import { looksLikeJwt } from '../../lib/http/access-token';

describe('OKTA_ISSUER', () => {
  it.each([
    ['https://acme.okta.com/oauth2/default', 'https://acme.okta.com/oauth2/default'],
    ['https://acme.okta.com/oauth2/default/', 'https://acme.okta.com/oauth2/default'],
    [' https://acme.okta.com/oauth2/aus1a2b3c4 ', 'https://acme.okta.com/oauth2/aus1a2b3c4'],
    ['http://127.0.0.1:7000/oauth2/default', 'http://127.0.0.1:7000/oauth2/default'],
    // Any standards-compliant issuer, not only Okta's: its issuer may be an origin alone.
    ['https://login.example.com', 'https://login.example.com'],
  ])('accepts %j as %j', (raw, issuer) => {
    expect(parseIssuer(raw)).toBe(issuer);
  });

  it.each([
    ['acme.okta.com/oauth2/default', /must be a custom authorization server's issuer/],
    [
      'http://acme.okta.com/oauth2/default',
      /must be an https:\/\/ URL \(http:\/\/ only for localhost\)/,
    ],
    ['https://acme.okta.com/oauth2/default?x=1', /the issuer alone \(no query or credentials\)/],
    ['https://u:p@acme.okta.com/oauth2/default', /the issuer alone/],
    ['https://acme.okta.com', /org authorization server .* only Okta can validate/],
    [
      'https://acme.oktapreview.com/',
      /use a custom authorization server, such as https:\/\/acme\.oktapreview\.com\/oauth2\/default/,
    ],
  ])('refuses %j', (raw, message) => {
    expect(() => parseIssuer(raw)).toThrow(ConfigError);
    expect(() => parseIssuer(raw)).toThrow(message);
  });

  it('is read by loadConfig, and an empty value means no Okta sign-in', () => {
    expect(loadConfig({ OKTA_ISSUER: 'https://acme.okta.com/oauth2/default/' }).signIn.issuer).toBe(
      'https://acme.okta.com/oauth2/default',
    );
    expect(loadConfig({ OKTA_ISSUER: '  ' }).signIn.issuer).toBeUndefined();
    expect(() => loadConfig({ OKTA_ISSUER: 'https://acme.okta.com' })).toThrow(ConfigError);
  });
});

describe('the read API token settings', () => {
  it('defaults to api://default, scope events:read, any group or client, static tokens on', () => {
    const { signIn } = loadConfig({});
    expect(signIn).toMatchObject({
      apiAudience: DEFAULT_API_AUDIENCE,
      apiScopes: [DEFAULT_API_SCOPE],
      apiGroups: [],
      apiClientIds: [],
      jwksRefetchCooldownMs: 30_000,
      readApiStaticTokens: true,
      uiTokenSignIn: true,
    });
    expect(DEFAULT_API_AUDIENCE).toBe('api://default');
    expect(DEFAULT_API_SCOPE).toBe('events:read');
  });

  it('reads comma lists for scopes, groups and client ids', () => {
    const { signIn } = loadConfig({
      OKTA_API_AUDIENCE: ' api://events ',
      OKTA_API_SCOPES: 'events:read, events:all',
      OKTA_API_GROUPS: 'okta-events-readers,Security',
      OKTA_API_CLIENT_IDS: '0oa1, 0oa2,',
    });
    expect(signIn.apiAudience).toBe('api://events');
    expect(signIn.apiScopes).toEqual(['events:read', 'events:all']);
    expect(signIn.apiGroups).toEqual(['okta-events-readers', 'Security']);
    expect(signIn.apiClientIds).toEqual(['0oa1', '0oa2']);
  });

  it('reads the keys refetch cooldown in seconds, 0 allowed, and refuses other values', () => {
    expect(
      loadConfig({ OKTA_JWKS_REFETCH_COOLDOWN_SECONDS: '0' }).signIn.jwksRefetchCooldownMs,
    ).toBe(0);
    expect(() => loadConfig({ OKTA_JWKS_REFETCH_COOLDOWN_SECONDS: '1.5' })).toThrow(
      'OKTA_JWKS_REFETCH_COOLDOWN_SECONDS must be a whole number, 0 or more, got "1.5"',
    );
  });

  it.each([
    ['true', true],
    ['FALSE', false],
    [' false ', false],
    ['', true],
  ])('READ_API_STATIC_TOKENS=%j is %j', (raw, on) => {
    expect(loadConfig({ READ_API_STATIC_TOKENS: raw }).signIn.readApiStaticTokens).toBe(on);
    expect(loadConfig({ UI_TOKEN_SIGN_IN: raw }).signIn.uiTokenSignIn).toBe(on);
  });

  it.each(['no', '0', 'off', 'yes'])('refuses READ_API_STATIC_TOKENS=%j with one line', (raw) => {
    expect(() => loadConfig({ READ_API_STATIC_TOKENS: raw })).toThrow(
      `READ_API_STATIC_TOKENS must be true or false, got "${raw}"`,
    );
  });
});

describe('which bearer values are access tokens', () => {
  it.each([
    ['eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln', true],
    ['eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.', true], // alg none: an empty signature
    ['read-token-1-of-32-characters-at-least', false],
    ['a.b', false],
    ['a.b.c.d', false],
    ['a b.c.d', false],
  ])('%j: %j', (value, jwt) => {
    expect(looksLikeJwt(value)).toBe(jwt);
  });
});
