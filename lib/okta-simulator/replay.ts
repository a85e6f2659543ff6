/**
 * Replay: re-delivers stored events to an endpoint in Okta envelopes, batched, by Okta's retry
 * rules (via `deliver`). Events are read from the local table or a deployed stage's read API
 * and spliced into the envelope as their stored JSON text, so they arrive exactly as Okta first
 * sent them.
 */
import type { EventsSource } from '../cli/events-cli';
import type { TimeRange } from '../store/query-parameters';
import { type DeliverOptions, type DeliveryResult, deliver } from './deliver';
import { oktaEnvelope } from './events';

export interface ReplayOptions extends TimeRange {
  type?: string;
  user?: string;
  /** Events per delivery. */
  perRequest: number;
  deliverOptions: DeliverOptions;
  /** Receives each delivery body instead of sending it (--dry-run). */
  dryRun?: (body: string) => void;
  onDelivery?: (result: DeliveryResult, events: number) => void;
}

export interface ReplaySummary {
  events: number;
  deliveries: number;
  accepted: number;
  /** Events whose delivery was not accepted. */
  lost: number;
}

/** An Okta delivery envelope around events given as JSON text, without re-serialising them. */
export function envelopeText(eventTexts: string[]): string {
  const { data: _data, ...head } = oktaEnvelope([]);
  return `${JSON.stringify(head).slice(0, -1)},"data":{"events":[${eventTexts.join(',')}]}}`;
}

export async function replay(
  source: EventsSource,
  to: string,
  options: ReplayOptions,
): Promise<ReplaySummary> {
  const summary: ReplaySummary = { events: 0, deliveries: 0, accepted: 0, lost: 0 };
  const send = async (batch: string[]) => {
    const body = envelopeText(batch);
    summary.deliveries++;
    summary.events += batch.length;
    if (options.dryRun) {
      options.dryRun(body);
      return;
    }
    const result = await deliver(to, body, options.deliverOptions);
    if (result.outcome === 'accepted') summary.accepted++;
    else summary.lost += batch.length;
    options.onDelivery?.(result, batch.length);
  };

  let cursor: string | undefined;
  let batch: string[] = [];
  do {
    const page = await source.listEvents({
      type: options.type,
      user: options.user,
      since: options.since,
      until: options.until,
      limit: 1000,
      cursor,
    });
    for (const json of page.items) {
      batch.push(json);
      if (batch.length === options.perRequest) {
        await send(batch);
        batch = [];
      }
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  if (batch.length > 0) await send(batch);
  return summary;
}
