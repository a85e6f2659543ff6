/** Okta payloads for tests: the documented sample, and generated events and deliveries. */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const fixtures = join(__dirname, '..', 'fixtures');

/** The sample delivery from Okta's "Event hooks" page, as text. */
export const sampleDeliveryText = readFileSync(
  join(fixtures, 'delivery-user.session.start.json'),
  'utf8',
);
export const SAMPLE_EVENT_UUID = 'f1d0b993-cc19-11ed-a688-db22c99ef6c4';

export function sampleDelivery(): { data: { events: Record<string, unknown>[] } } & Record<
  string,
  unknown
> {
  return JSON.parse(sampleDeliveryText);
}

/** The sample LogEvent from Okta's implementation guide (no envelope). */
export function sampleDeactivateEvent(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(fixtures, 'event-user.lifecycle.deactivate.json'), 'utf8'));
}

export function logEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...sampleDelivery().data.events[0],
    uuid: randomUUID(),
    published: new Date().toISOString(),
    ...overrides,
  };
}

export interface TestDelivery extends Record<string, unknown> {
  eventId: string;
  data: { events: Array<Record<string, unknown>> };
}

export function delivery(events: unknown[], overrides: Record<string, unknown> = {}): TestDelivery {
  return {
    eventType: 'com.okta.event_hook',
    eventTypeVersion: '1.0',
    cloudEventsVersion: '0.1',
    source: 'https://example.okta.com/api/v1/eventHooks/who7hphp39JoHLni81d7',
    eventId: randomUUID(),
    eventTime: new Date().toISOString(),
    contentType: 'application/json',
    data: { events },
    ...overrides,
  } as TestDelivery;
}
