import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../lib/config';
import { ConfigError, RequestError, StorageUnavailableError } from '../../lib/errors';
import { acceptsGzip, errorResponse, fitResponsePayload, parseRequest } from '../../lib/http/http';
import { v1Event, v2Event } from '../helpers/api-gateway';

describe('parseRequest', () => {
  it('reads a v2 (HTTP API) event', () => {
    const request = parseRequest(
      v2Event({ headers: { 'Content-Type': 'application/json' }, body: '{"a":1}' }),
    );
    expect(request).toMatchObject({
      method: 'POST',
      path: '/okta-webhooks-endpoint',
      headers: { 'content-type': 'application/json' },
    });
    expect(request.rawBody.toString()).toBe('{"a":1}');
  });

  it('reads a v1 (REST API) event, lower-casing names and joining repeated headers', () => {
    const request = parseRequest(
      v1Event({
        headers: { Authorization: 'b' },
        multiValueHeaders: { Authorization: ['a', 'b'], 'X-Okta-Request-Id': ['r'] },
        body: 'x',
      }),
    );
    expect(request.headers).toEqual({ authorization: 'a, b', 'x-okta-request-id': 'r' });
    expect(request.method).toBe('POST');
  });

  it('counts the time since API Gateway received the request, ignoring absurd arrival times', () => {
    const arrived = (timeEpoch: number) => {
      const event = v2Event({});
      event.requestContext.timeEpoch = timeEpoch;
      return parseRequest(event).waitedMs;
    };
    const waited = arrived(Date.now() - 1500);
    expect(waited).toBeGreaterThanOrEqual(1500);
    expect(waited).toBeLessThan(10_000);
    expect(arrived(0)).toBe(0); // missing: not 56 years of waiting
    expect(arrived(Date.now() + 5000)).toBe(0); // a clock ahead of ours
    const v1 = v1Event({});
    v1.requestContext.requestTimeEpoch = Date.now() - 800;
    expect(parseRequest(v1).waitedMs).toBeGreaterThanOrEqual(800);
  });

  it('decodes base64 bodies to the exact bytes sent', () => {
    const bytes = Buffer.from([0x7b, 0x22, 0xc3, 0xa9, 0x22, 0x7d, 0xff]);
    expect(parseRequest(v2Event({ body: bytes, base64: true })).rawBody.equals(bytes)).toBe(true);
    expect(parseRequest(v1Event({ body: bytes, base64: true })).rawBody.equals(bytes)).toBe(true);
  });
});

describe('errorResponse', () => {
  it('shows a refusal with its code, message and problems', () => {
    const response = errorResponse(new RequestError(400, 'not_an_event_hook', 'Bad.', ['p1']));
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body!)).toEqual({
      error: 'not_an_event_hook',
      message: 'Bad.',
      problems: ['p1'],
    });
  });

  it('asks for a retry when storage failed', () => {
    const response = errorResponse(
      new StorageUnavailableError('DynamoDB answered ThrottlingException'),
    );
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body!).error).toBe('storage_unavailable');
  });

  it('hides unexpected errors and configuration details', () => {
    const internal = errorResponse(new Error('secret=hunter2 at /var/task/index.js:1'));
    expect(internal.statusCode).toBe(500);
    expect(internal.body).not.toContain('hunter2');
    expect(internal.body).not.toContain('/var/task');
    const config = errorResponse(new ConfigError('Stage "prod" has no OKTA_AUTH_SECRET'));
    expect(config.statusCode).toBe(500);
    expect(JSON.parse(config.body!).error).toBe('not_configured');
  });
});

describe('loadConfig', () => {
  it('has defaults for local development', () => {
    expect(loadConfig({})).toMatchObject({
      stage: 'local',
      oktaAuthHeader: 'authorization',
      oktaAuthSecrets: [],
      maxBodyBytes: 6 * 1024 * 1024,
      requestBudgetMs: 2500,
      logFormat: 'json',
    });
  });

  it('splits comma-separated secrets for rotation and lower-cases the header name', () => {
    const config = loadConfig({
      OKTA_AUTH_SECRET: ' a , b ,',
      OKTA_AUTH_HEADER: 'X-Okta-Secret',
      HOOKDECK_SIGNING_SECRET: 'h',
    });
    expect(config.oktaAuthSecrets).toEqual(['a', 'b']);
    expect(config.oktaAuthHeader).toBe('x-okta-secret');
    expect(config.hookdeckSigningSecrets).toEqual(['h']);
  });

  it.each(['0', '-5', '1.5', 'lots'])('refuses MAX_BODY_BYTES=%s', (value) => {
    expect(() => loadConfig({ MAX_BODY_BYTES: value })).toThrow(
      /MAX_BODY_BYTES must be a positive whole number/,
    );
  });
});

describe('fitResponsePayload: inside Lambda 6 MB response payload', () => {
  const response = (body: string) => ({
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body,
  });

  it('reads Accept-Encoding as HTTP does', () => {
    expect(acceptsGzip('gzip, deflate, br')).toBe(true);
    expect(acceptsGzip('GZIP')).toBe(true);
    expect(acceptsGzip('*')).toBe(true);
    expect(acceptsGzip('deflate, gzip;q=0.5')).toBe(true);
    expect(acceptsGzip('gzip;q=0')).toBe(false);
    expect(acceptsGzip('identity')).toBe(false);
    expect(acceptsGzip(undefined)).toBe(false);
  });

  it('leaves a response that fits alone, whatever the caller accepts', () => {
    const small = response('{"events":[]}');
    expect(fitResponsePayload(small, 'gzip')).toBe(small);
  });

  it('refuses with 406 what does not fit even gzipped, saying so', () => {
    const incompressible = response(JSON.stringify(randomBytes(4_800_000).toString('base64')));
    expect(() => fitResponsePayload(incompressible, 'gzip')).toThrow(
      expect.objectContaining({
        statusCode: 406,
        code: 'response_too_large',
        message: expect.stringMatching(/MB gzipped: it cannot be sent through the read API/),
      }),
    );
  });
});
