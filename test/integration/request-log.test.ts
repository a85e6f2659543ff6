/**
 * What an operator reads in the one log line per request: which problems made a 400, what
 * caused a 503 (the cause chain, never a body or a secret), the delivery id, request id and
 * source IP, in both formats, with a caller's text unable to forge a line or drive a terminal.
 */
import { loadConfig } from '../../lib/config';
import { escapeControls, formatRequestLog, sliceForLog } from '../../lib/logger';
import { SecretResolver } from '../../lib/secrets';
import { createDeliveryHandler } from '../../lib/webhook/delivery-endpoint';
import { createVerificationHandler } from '../../lib/webhook/verification-endpoint';
import { freePort } from '../../lib/local/local-stack';
import { v2Event } from '../helpers/api-gateway';
import { type FakeSsm, startFakeSsm } from '../helpers/fake-ssm';
import { delivery, logEvent, sampleDeliveryText } from '../helpers/okta';

const SECRET = 'Basic c2VjcmV0LWZvci1sb2dz';

let lines: string[];
beforeEach(() => {
  lines = [];
  const capture = (line: unknown) => void lines.push(String(line));
  jest.spyOn(console, 'log').mockImplementation(capture);
  jest.spyOn(console, 'error').mockImplementation(capture);
});
afterEach(() => jest.restoreAllMocks());

function post(body: string, sourceIp = '203.0.113.7') {
  const event = v2Event({
    body,
    headers: { 'content-type': 'application/json', authorization: SECRET },
  });
  event.requestContext.http.sourceIp = sourceIp;
  return event;
}

function receiver(format: 'json' | 'pretty', env: Record<string, string> = {}) {
  return createDeliveryHandler({
    config: loadConfig({ OKTA_AUTH_SECRET: SECRET, LOG_FORMAT: format, ...env }),
  });
}

/** Three problems, one of them carrying a C1 control and a line separator in the caller's text. */
const badDelivery = JSON.stringify({
  ...delivery([logEvent({ uuid: 42 }), logEvent({ published: '' })]),
  eventType: 'x\u009b2J\u2028forged 21:40:00 POST / 204',
});

describe('a 400', () => {
  it('JSON: lists the problems, sliced', async () => {
    const response = await receiver('json')(post(badDelivery));
    expect(response.statusCode).toBe(400);
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({
      status: 400,
      error: 'not_an_event_hook',
      reason: 'The body is not an Okta event hook delivery: 3 problems found.',
      sourceIp: '203.0.113.7',
      requestId: expect.stringMatching(/^test-/),
    });
    expect(line.problems).toEqual([
      expect.stringMatching(/^eventType must be "com.okta.event_hook", found "x\u009b2J/),
      'data.events[0].uuid must be a string, found a number',
      'data.events[1].published must not be empty',
    ]);
  });

  it('pretty: one line, the problems in it, controls escaped', async () => {
    await receiver('pretty')(post(badDelivery));
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line.split(/[\n\r\u2028\u2029\u0085]/)).toHaveLength(1);
    // eslint-disable-next-line no-control-regex -- no control may reach the terminal
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(line).toContain('not_an_event_hook: The body is not an Okta event hook delivery');
    expect(line).toContain('data.events[0].uuid must be a string, found a number');
    expect(line).toContain('x\\u009b2J\\u2028forged');
    expect(line).toMatch(/ from=203\.0\.113\.7 request=test-\d+$/);
  });

  it('many problems: the first 20, then how many more', async () => {
    const events = Array.from({ length: 30 }, () => logEvent({ uuid: 1 }));
    await receiver('json')(post(JSON.stringify(delivery(events))));
    const { problems } = JSON.parse(lines[0]!) as { problems: string[] };
    expect(problems).toHaveLength(21);
    expect(problems[20]).toBe('... 10 more');
  });
});

describe('a 503', () => {
  let ssm: FakeSsm;
  beforeAll(async () => {
    ssm = await startFakeSsm();
    ssm.fail = true;
  });
  afterAll(() => ssm?.stop());

  it('SSM down: the cause chain, names and messages, no secret', async () => {
    const handler = createVerificationHandler({
      config: loadConfig({
        STAGE: 'production',
        SECRETS_PATH: '/okta-event-hooks/production',
        SSM_ENDPOINT: ssm.endpoint,
        OKTA_AUTH_SECRET: SECRET,
      }),
      secrets: new SecretResolver(),
    });
    const event = v2Event({
      method: 'GET',
      headers: { 'x-okta-verification-challenge': 'c', authorization: SECRET },
    });
    expect((await handler(event)).statusCode).toBe(503);
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({
      status: 503,
      error: 'temporarily_unavailable',
      reason: 'SSM Parameter Store answered InternalServerError',
      causes: ['SsmError: InternalServerError (HTTP 500): injected outage'],
    });
    expect(lines.join('\n')).not.toContain(SECRET);
  });

  it('DynamoDB unreachable: the exception under the storage error, in both formats', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const env = { DYNAMODB_ENDPOINT: closed, EVENTS_TABLE: 'nowhere' };
    expect((await receiver('json', env)(post(sampleDeliveryText))).statusCode).toBe(503);
    expect((await receiver('pretty', env)(post(sampleDeliveryText))).statusCode).toBe(503);
    const json = JSON.parse(lines.find((l) => l.startsWith('{"msg":"request"'))!);
    expect(json.error).toBe('storage_unavailable');
    expect(json.causes[0]).toMatch(/ECONNREFUSED/);
    expect(json.deliveryId).toEqual(expect.any(String));
    const pretty = lines.find((l) => / POST \/okta-webhooks-endpoint 503 /.test(l))!;
    expect(pretty).toMatch(/storage_unavailable: .* caused by .*ECONNREFUSED/);
    expect(pretty).toContain(` delivery=${json.deliveryId} from=203.0.113.7 request=test-`);
    expect(lines.join('\n')).not.toContain(SECRET);
    expect(lines.join('\n')).not.toContain('displayMessage'); // nothing of the body
  });
});

describe('formatting', () => {
  it('pretty: delivery id, source IP and request id after the duration', () => {
    const line = formatRequestLog(
      {
        level: 'info',
        requestId: 'req-1',
        method: 'POST',
        path: '/okta-webhooks-endpoint',
        status: 204,
        ms: 12,
        sourceIp: '198.51.100.4',
        deliveryId: 'd-1',
        eventTypes: ['user.session.start'],
        events: 1,
        received: 'new',
      },
      'pretty',
    );
    expect(line).toMatch(
      /^\d\d:\d\d:\d\d POST \/okta-webhooks-endpoint 204 user.session.start 1 event received new 12ms delivery=d-1 from=198.51.100.4 request=req-1$/,
    );
  });

  it('slices on code points, never inside a surrogate pair', () => {
    expect(sliceForLog('ab😀c', 3)).toBe('ab😀…');
    expect(sliceForLog('a😀', 1)).toBe('a…');
    expect(sliceForLog('ab', 2)).toBe('ab');
    expect(sliceForLog('x'.repeat(300))).toHaveLength(201);
  });

  it('escapes C0, DEL, C1 and the Unicode line separators', () => {
    expect(escapeControls('a\nb\u001b[2J\u007f\u009b\u0085\u2028\u2029é')).toBe(
      'a\\u000ab\\u001b[2J\\u007f\\u009b\\u0085\\u2028\\u2029é',
    );
  });
});
