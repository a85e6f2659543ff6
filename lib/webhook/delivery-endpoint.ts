/**
 * POST: an Okta event hook delivery. After createEndpoint has authenticated the caller:
 * transport (415, 413), shape (400), then store and answer 204, or 503 when storage failed.
 */
import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Config } from '../config';
import { createDynamoDbClient } from '../store/dynamodb';
import { type EndpointDeps, authenticateOktaCaller, createEndpoint } from '../http/endpoint';
import { RequestError, StorageUnavailableError } from '../errors';
import { type DeliveryMeta, expiryFor } from '../store/event-items';
import { EventStore } from '../store/event-store';
import { type HttpRequest, noContent } from '../http/http';
import { emitDeliveryMetrics } from '../metrics';
import { isJsonContentType, parseDelivery } from '../okta/okta-contract';

export interface DeliveryHandlerDeps extends EndpointDeps {
  store?: EventStore;
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
  if (request.rawBody.length > config.maxBodyBytes) {
    throw new RequestError(
      413,
      'body_too_large',
      `The body is ${request.rawBody.length} bytes; at most ${config.maxBodyBytes} are accepted.`,
    );
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
  let store = deps.store; // one client per container, made on first use
  const now = deps.now ?? (() => new Date());

  return createEndpoint(deps, authenticateOktaCaller, async ({ request, config, log, started }) => {
    checkTransport(request, config);
    const delivery = parseDelivery(request.rawBody);
    const receivedAt = now();
    const meta: DeliveryMeta = {
      // Okta always sends eventId; a body hash keeps retries of an id-less delivery together.
      deliveryId:
        delivery.eventId ?? `sha256:${createHash('sha256').update(request.rawBody).digest('hex')}`,
      receivedAt: receivedAt.toISOString(),
      hookdeckEventId: request.headers['x-hookdeck-eventid'] || undefined,
      expiresAt: expiryFor(receivedAt, config.retentionDays),
    };
    log.deliveryId = meta.deliveryId;
    log.events = delivery.events.length;
    log.eventTypes = [...new Set(delivery.events.map(({ event }) => event.eventType))];

    const eventStore = (store ??= new EventStore(createDynamoDbClient(config), config.tableName));
    // The budget runs from API Gateway's receipt: a cold start spends Okta's 3 s too.
    const budget = config.requestBudgetMs - request.waitedMs - (performance.now() - started);
    const result = await withinBudget(budget, (signal) =>
      eventStore.storeDelivery(delivery, meta, signal),
    );
    log.stored = result.storedCount;
    log.duplicates = result.duplicateCount;
    if (config.logFormat === 'json') emitDeliveryMetrics(config.stage, result);
    return noContent();
  });
}
