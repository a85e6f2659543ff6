/** Okta payloads for tests: the documented samples, and generated events and deliveries. */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type EventOptions,
  type EventType,
  type LogEvent,
  oktaEnvelope,
  oktaEvent,
} from '../../lib/okta-simulator/events';

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

/** An Okta envelope around `events` (the simulator's, so tests and `npm run okta` agree). */
export function delivery(events: unknown[], overrides: Record<string, unknown> = {}): TestDelivery {
  return oktaEnvelope(events as LogEvent[], overrides) as TestDelivery;
}

/** A realistic generated event of any common type (see lib/okta-simulator/events.ts). */
export function generatedEvent(
  type: EventType = 'user.lifecycle.create',
  options: EventOptions = {},
): LogEvent {
  return oktaEvent(type, options);
}
