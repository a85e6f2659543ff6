/**
 * The event item: its JSON as text or gzipped, whichever costs fewer write units, and the same
 * text back from eventJson either way.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDelivery } from '../../lib/okta/okta-contract';
import { compactJson } from '../../lib/okta/json-text';
import { eventItem, eventJson, itemSize, writeUnits } from '../../lib/store/event-items';

const origin = { origin: 'hook' as const, receivedAt: '2026-11-28T00:00:00.000Z', expiresAt: 0 };

function itemFor(event: Record<string, unknown>) {
  const rawJson = JSON.stringify(event, null, 2);
  return { rawJson, item: eventItem({ event: event as never, rawJson }, origin)! };
}

it("stores Okta's sample event gzipped: 2 write units instead of 3, the same text back", () => {
  const body = readFileSync(join(__dirname, '../fixtures/delivery-user.session.start.json'));
  const [parsed] = parseDelivery(body).events;
  const item = eventItem(parsed!, origin)!;
  expect(item.event).toBeUndefined();
  expect(item.eventGzip?.B).toBeInstanceOf(Uint8Array);
  expect(writeUnits(itemSize(item))).toBe(2);
  const { eventGzip: _gzipped, ...rest } = item;
  const asText = { ...rest, event: { S: eventJson(item) } };
  expect(writeUnits(itemSize(asText))).toBe(3);
  expect(eventJson(item)).toBe(compactJson(parsed!.rawJson));
});

it('keeps the text when the item is one unit anyway, or gzip saves none', () => {
  const small = itemFor({ uuid: 'u-small', eventType: 'user.session.start', published: 'x' });
  expect(small.item.event?.S).toBe(compactJson(small.rawJson));
  expect(small.item.eventGzip).toBeUndefined();

  // Random text hardly compresses: gzip would not save a unit.
  const noise = itemFor({
    uuid: 'u-noise',
    eventType: 'user.session.start',
    published: 'x',
    displayMessage: randomBytes(1200).toString('base64'),
  });
  expect(writeUnits(itemSize(noise.item))).toBe(2);
  expect(noise.item.event?.S).toBe(compactJson(noise.rawJson));
  expect(noise.item.eventGzip).toBeUndefined();
});
