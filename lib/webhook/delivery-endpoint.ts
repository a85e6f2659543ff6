/**
 * POST: an Okta event hook delivery. After createEndpoint has authenticated the caller:
 * transport (415, 413), shape (400), sizes (413); then the request itself is made durable in
 * one conditional write (lib/store/delivery-store.ts) and answered 204, or 503 when that write
 * failed or the budget ran out. The events are written afterwards, from the table's stream
 * (lib/stream/store-deliveries.ts), so the answer takes the same time whatever the batch size.
 */
import { setMaxListeners } from 'node:events';
import type { Config } from '../config';
import { RequestError, StorageUnavailableError } from '../errors';
import { type EndpointDeps, authenticateOktaCaller, createEndpoint } from '../http/endpoint';
import { type HttpRequest, noContent } from '../http/http';
import { type OktaDelivery, isJsonContentType, parseDelivery } from '../okta/okta-contract';
import { deliveryIdFor, keptHeaders } from '../store/delivery-items';
import { DeliveryStore } from '../store/delivery-store';
import { createDynamoDbClient } from '../store/dynamodb';
import { eventItem, expiryFor } from '../store/event-items';

export interface DeliveryHandlerDeps extends EndpointDeps {
  deliveries?: DeliveryStore;
  now?: () => Date;
}

function checkTransport(request: HttpRequest, config: Config): void {
  if (!isJsonContentType(request.headers['content-type'])) {
    throw new RequestError(
      415,
      'unsupported_media_type',
      'The Content-Type must be application/json, as Okta sends it.',
    );
  }
  const encoding = request.headers['content-encoding']?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') {
    // API Gateway passes compressed bodies through as they are: Okta never compresses.
    throw new RequestError(
      415,
      'unsupported_content_encoding',
      `The body is sent with Content-Encoding ${JSON.stringify(encoding.slice(0, 50))}; only uncompressed JSON is accepted, as Okta sends it.`,
    );
  }
  if (replacedInTransit(request)) {
    throw new RequestError(
      400,
      'invalid_encoding',
      'The body is not valid UTF-8 text: it arrived with bytes replaced by U+FFFD and a different length than its Content-Length.',
    );
  }
  if (request.rawBody.length > config.maxBodyBytes) {
    throw new RequestError(
      413,
      'body_too_large',
      `The body is ${request.rawBody.length} bytes; at most ${config.maxBodyBytes} are accepted.`,
    );
  }
}

const REPLACEMENT_CHARACTER = Buffer.from('\uFFFD', 'utf8');

/**
 * A body handed over as text after invalid UTF-8 was replaced by U+FFFD would be stored
 * altered. serverless offline does this; API Gateway passes a JSON body as a string in a JSON
 * event, which cannot hold invalid UTF-8 either (unless it base64-encodes the body).
 * The replacement changes the length, so a Content-Length that disagrees, with U+FFFD present,
 * means the bytes sent were not UTF-8.
 */
function replacedInTransit(request: HttpRequest): boolean {
  const declared = request.headers['content-length'];
  if (declared === undefined || !/^\d+$/.test(declared)) return false;
  return (
    Number(declared) !== request.rawBody.length && request.rawBody.includes(REPLACEMENT_CHARACTER)
  );
}

/** An event whose JSON is below this always fits in an item; only larger ones are measured. */
const SURELY_FITS_BYTES = 150 * 1024;

/** 413 now for an event no item can hold, rather than a delivery that can never be stored. */
function checkEventSizes(delivery: OktaDelivery): void {
  const origin = { origin: 'hook' as const, receivedAt: new Date(0).toISOString(), expiresAt: 0 };
  for (const parsed of delivery.events) {
    if (parsed.rawJson.length < SURELY_FITS_BYTES / 3) continue; // ≤ 3 UTF-8 bytes a character
    if (Buffer.byteLength(parsed.rawJson) < SURELY_FITS_BYTES) continue;
    if (eventItem(parsed, origin) === undefined) {
      throw new RequestError(
        413,
        'event_too_large',
        `Event ${parsed.event.uuid} cannot fit in a DynamoDB item (400 KB) even compressed; nothing from this delivery was stored.`,
      );
    }
  }
}

/**
 * Runs `work` with an AbortSignal that fires when the request budget is spent, and answers
 * (with StorageUnavailableError, so 503) at that moment even if some write ignores the signal:
 * the sender retries, and writes still in flight are idempotent.
 */
async function withinBudget<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal); // one listener per concurrent write
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => {
        const error = new StorageUnavailableError('the request budget ran out');
        controller.abort(error);
        reject(error);
      },
      Math.max(ms, 0),
    );
  });
  try {
    return await Promise.race([work(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export function createDeliveryHandler(deps: DeliveryHandlerDeps = {}) {
  let deliveries = deps.deliveries; // one client per container, made on first use
  const now = deps.now ?? (() => new Date());

  return createEndpoint(
    deps,
    authenticateOktaCaller,
    async ({ request, config, caller, log, started }) => {
      checkTransport(request, config);
      const delivery = parseDelivery(request.rawBody);
      log.events = delivery.events.length;
      log.eventTypes = [...new Set(delivery.events.map(({ event }) => event.eventType))];
      checkEventSizes(delivery);

      const receivedAt = now();
      const deliveryId = deliveryIdFor(delivery.eventId, request.rawBody);
      log.deliveryId = deliveryId; // also on a 503, so the operator can find the retry
      const store = (deliveries ??= new DeliveryStore(
        createDynamoDbClient(config),
        config.tableName,
      ));
      // The budget runs from API Gateway's receipt: a cold start spends Okta's 3 s too.
      const budget = config.requestBudgetMs - request.waitedMs - (performance.now() - started);
      const result = await withinBudget(budget, (signal) =>
        store.record(
          {
            deliveryId,
            eventId: delivery.eventId,
            receivedAt: receivedAt.toISOString(),
            body: request.rawBody,
            headers: keptHeaders(request.headers, config.oktaAuthHeader),
            eventCount: delivery.events.length,
            eventTypes: log.eventTypes ?? [],
            source: delivery.source,
            eventTime: delivery.eventTime,
            caller,
            sourceIp: request.sourceIp,
            requestId: request.requestId,
            expiresAt: expiryFor(receivedAt, config.retentionDays),
          },
          signal,
        ),
      );
      log.deliveryId = result.deliveryId;
      log.received = result.attempts === 1 ? 'new' : `again (attempt ${result.attempts})`;
      return noContent();
    },
  );
}
