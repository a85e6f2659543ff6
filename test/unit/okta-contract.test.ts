import { RequestError } from '../../lib/errors';
import { isJsonContentType, parseDelivery, verificationBody } from '../../lib/okta/okta-contract';
import {
  SAMPLE_EVENT_UUID,
  delivery,
  logEvent,
  sampleDelivery,
  sampleDeliveryText,
} from '../helpers/okta';

function refusal(body: string | Buffer): RequestError {
  try {
    parseDelivery(Buffer.isBuffer(body) ? body : Buffer.from(body));
  } catch (error) {
    if (error instanceof RequestError) return error;
    throw error;
  }
  throw new Error('expected parseDelivery to refuse the body');
}

describe('verification challenge', () => {
  it('echoes the challenge as {"verification": ...}', () => {
    expect(verificationBody({ 'x-okta-verification-challenge': 'a"b\\c' })).toEqual({
      verification: 'a"b\\c',
    });
  });

  it.each([[{}], [{ 'x-okta-verification-challenge': '' }]])(
    'refuses a missing or empty challenge: %j',
    (headers) => {
      expect(() => verificationBody(headers)).toThrow(
        expect.objectContaining({ statusCode: 400, code: 'missing_challenge' }),
      );
    },
  );
});

describe('content type', () => {
  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'Application/JSON',
    'application/cloudevents+json',
  ])('accepts %s', (type) => expect(isJsonContentType(type)).toBe(true));
  it.each([undefined, '', 'text/plain', 'application/x-www-form-urlencoded', 'application/jsonp'])(
    'refuses %s',
    (type) => expect(isJsonContentType(type)).toBe(false),
  );
});

describe('parseDelivery', () => {
  it('reads the documented sample delivery', () => {
    const parsed = parseDelivery(Buffer.from(sampleDeliveryText));
    expect(parsed.eventId).toBe('85b60edb-4263-4e13-993b-818e26201052');
    expect(parsed.source).toBe('https://{yourOktaDomain}/api/v1/eventHooks/who7hphp39JoHLni81d7');
    expect(parsed.eventTime).toBe('2023-03-28T17:03:37.093Z');
    expect(parsed.events).toHaveLength(1);
    expect(parsed.events[0]!.event.uuid).toBe(SAMPLE_EVENT_UUID);
    expect(JSON.parse(parsed.events[0]!.rawJson)).toEqual(sampleDelivery().data.events[0]);
  });

  it('accepts an Admin Console preview: null actor and target, mixed-case outcome', () => {
    const preview = logEvent({
      actor: null,
      target: null,
      outcome: { result: 'Success', reason: null },
    });
    const parsed = parseDelivery(Buffer.from(JSON.stringify(delivery([preview]))));
    expect(JSON.parse(parsed.events[0]!.rawJson)).toEqual(preview);
  });

  it('keeps each event exactly as sent: big numbers, duplicate keys, unknown fields, escapes', () => {
    const eventText =
      '{"uuid":"u-1","eventType":"x.y","published":"2024-01-01T00:00:00.000Z","n":12345678901234567890,' +
      '"dup":1,"dup":2,"futureField":{"deep":[1.50,"\\u00e9\\ud83d\\ude00"]}}';
    const body = `{"eventType":"com.okta.event_hook","data":{"events":[ ${eventText} ,{"uuid":"u-2","eventType":"a","published":"p"}]}}`;
    const parsed = parseDelivery(Buffer.from(body));
    expect(parsed.events[0]!.rawJson).toBe(eventText);
    expect(parsed.events[1]!.rawJson).toBe('{"uuid":"u-2","eventType":"a","published":"p"}');
  });

  it('uses the last of duplicate data/events keys, as JSON.parse does', () => {
    const body =
      '{"eventType":"com.okta.event_hook","data":{"events":[{"uuid":"old","eventType":"a","published":"p"}]},' +
      '"data":{"events":[],"events":[{"uuid":"new","eventType":"a","published":"p"}]}}';
    const parsed = parseDelivery(Buffer.from(body));
    expect(parsed.events.map((e) => e.event.uuid)).toEqual(['new']);
    expect(parsed.events[0]!.rawJson).toBe('{"uuid":"new","eventType":"a","published":"p"}');
  });

  it('says where malformed JSON broke', () => {
    const error = refusal('{\n  "eventType": "com.okta.event_hook",\n  "data": {"events": [}\n}');
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe('malformed_json');
    expect(error.message).toMatch(/line 3, column 23/);
  });

  it.each([
    [
      'truncated',
      '{"eventType": "com.okta',
      /unexpected end of input, unterminated string at line 1, column 24/,
    ],
    ['trailing comma', '{"a":1,}', /expected a property name in double quotes at line 1, column 8/],
    ['bare word', 'hello', /expected a value at line 1, column 1/],
    ['two documents', '{} {}', /expected the end of the document at line 1, column 4/],
  ])('locates a %s', (_name, body, message) => {
    expect(refusal(body).message).toMatch(message);
  });

  it('refuses invalid UTF-8 and empty bodies', () => {
    expect(refusal(Buffer.from([0x7b, 0xff, 0x7d])).code).toBe('invalid_encoding');
    expect(refusal('').code).toBe('empty_body');
    expect(refusal('  \n').code).toBe('empty_body');
  });

  it.each([
    ['[]', 'an array'],
    ['null', 'null'],
    ['"text"', 'a string'],
    ['42', 'a number'],
  ])('refuses a body that is not an object: %s', (body, found) => {
    const error = refusal(body);
    expect(error.code).toBe('not_an_event_hook');
    expect(error.message).toContain(found);
  });

  it('lists every problem of a delivery at once', () => {
    const body = JSON.stringify({
      eventType: 'com.okta.inline_hook',
      data: {
        events: [
          { uuid: 'ok', eventType: 'a', published: 'p' },
          { eventType: 5, published: 'p' },
          'not an event',
          { uuid: '', eventType: 'a', published: null },
          { uuid: 'x'.repeat(300), eventType: 'a', published: 'p' },
        ],
      },
    });
    const error = refusal(body);
    expect(error.statusCode).toBe(400);
    expect(error.problems).toEqual([
      'eventType must be "com.okta.event_hook", found "com.okta.inline_hook"',
      'data.events[1].uuid must be a string, found nothing (the field is missing)',
      'data.events[1].eventType must be a string, found a number',
      'data.events[2] must be an object, found a string',
      'data.events[3].uuid must not be empty',
      'data.events[3].published must be a string, found null',
      'data.events[4].uuid is 300 characters long; at most 256 are accepted',
    ]);
  });

  it.each([
    [
      { eventType: 'com.okta.event_hook' },
      'data must be an object holding an "events" array, found nothing (the field is missing)',
    ],
    [
      { eventType: 'com.okta.event_hook', data: { events: {} } },
      'data.events must be an array, found a object',
    ],
    [
      { eventType: 'com.okta.event_hook', data: [] },
      'data must be an object holding an "events" array, found an array',
    ],
  ])('refuses a delivery without an events array: %j', (body, problem) => {
    expect(refusal(JSON.stringify(body)).problems).toEqual([problem]);
  });

  it('refuses a uuid with an unpaired surrogate, which DynamoDB cannot key', () => {
    const body =
      '{"eventType":"com.okta.event_hook","data":{"events":[{"uuid":"\\ud800","eventType":"a","published":"p"}]}}';
    expect(refusal(body).problems).toEqual([
      'data.events[0].uuid contains an unpaired UTF-16 surrogate',
    ]);
  });

  it('caps the problem list for hostile input and says how many more there were', () => {
    const body = JSON.stringify(delivery(Array.from({ length: 500 }, () => ({}))));
    const error = refusal(body);
    expect(error.message).toContain('1500 problems');
    expect(error.problems).toHaveLength(101);
    expect(error.problems![100]).toBe('... and 1400 more problems');
  });

  it('keeps __proto__ keys as data without polluting prototypes', () => {
    const body =
      '{"eventType":"com.okta.event_hook","data":{"events":[{"uuid":"p","eventType":"a","published":"p","__proto__":{"polluted":true}}]}}';
    const parsed = parseDelivery(Buffer.from(body));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(parsed.events[0]!.rawJson).toContain('"__proto__":{"polluted":true}');
  });

  it('accepts a delivery with no events and one without an eventId', () => {
    const parsed = parseDelivery(
      Buffer.from(JSON.stringify({ eventType: 'com.okta.event_hook', data: { events: [] } })),
    );
    expect(parsed.events).toEqual([]);
    expect(parsed.eventId).toBeUndefined();
  });
});
