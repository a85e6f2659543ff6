/**
 * GET /events, /events/{uuid}, /events/{uuid}/deliveries, /deliveries, /deliveries/{id},
 * /deliveries/{id}/events, /event-types, /event-counts (and the reactions' routes): the stored
 * events and deliveries over HTTP, for people, the event browser (/ui) and the CLI against a
 * deployed stage. Events are returned as the exact JSON text Okta sent, spliced into
 * the response without re-serialising.
 */
import { authenticateReader } from '../http/auth';
import type { AccessTokenVerifier } from '../http/access-token';
import { READ_REQUEST_TIMEOUT_MS, createDynamoDbClient } from '../store/dynamodb';
import { type EndpointDeps, createEndpoint } from '../http/endpoint';
import { FailureLimiter } from '../http/failure-limiter';
import { SessionRevocations } from '../store/session-revocations';
import { RequestError } from '../errors';
import { EventQueries } from '../store/event-queries';
import { parseDeliveryStatus } from '../store/delivery-queries';
import { parseLimit } from '../store/query-parameters';
import {
  type ApiGatewayEvent,
  type HttpResponse,
  jsonResponse,
  jsonTextResponse,
} from '../http/http';
import { quoted } from '../printable';
import { reactionRoutes } from './reaction-routes';
import { decodePathSegment, listOptions, parameters } from './route-parameters';

const LIST_EVENTS_PARAMETERS = ['type', 'user', 'since', 'until', 'limit', 'cursor'];
const LIST_DELIVERIES_PARAMETERS = ['since', 'until', 'status', 'limit', 'cursor'];
const PAGE_PARAMETERS = ['limit', 'cursor'];
const COUNT_EVENTS_PARAMETERS = ['type', 'user', 'since', 'until'];
/** Counting stops here and answers what it has, well inside the function's 6 s timeout. */
const COUNT_BUDGET_MS = 4000;

/**
 * Answers may now reach a browser (the event browser's cookie): never cached, never sniffed as
 * anything but JSON.
 */
function withPrivateHeaders(response: HttpResponse): HttpResponse {
  return {
    ...response,
    headers: {
      ...response.headers,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    },
  };
}

function noSuchEvent(uuid: string): RequestError {
  return new RequestError(404, 'not_found', `No event with uuid ${quoted(uuid)} is stored.`);
}

function noSuchDelivery(id: string): RequestError {
  return new RequestError(404, 'not_found', `No delivery with id ${quoted(id)} is stored.`);
}

export function createReadApiHandler(
  deps: EndpointDeps & {
    queries?: EventQueries;
    failures?: FailureLimiter;
    /** Okta access tokens' verifier; default: the container's (lib/http/access-token.ts). */
    accessTokens?: AccessTokenVerifier;
  } = {},
) {
  let queries = deps.queries; // one client per container, made on first use
  const failures = deps.failures ?? new FailureLimiter(); // per container: see its file

  const endpoint = createEndpoint(
    deps,
    // Wrong bearer tokens are throttled per source; the session cookie is not a guessable secret.
    (request, config) =>
      /^Bearer\s/i.test(request.headers.authorization ?? '')
        ? failures.guard(request.sourceIp, 'bearer tokens', () =>
            authenticateReader(request.headers, config, Date.now(), deps.accessTokens),
          )
        : authenticateReader(request.headers, config),
    async ({ request, config, caller, log }) => {
      // Cursors are signed under the static tokens where there are any (even with
      // READ_API_STATIC_TOKENS=false); with only an issuer, under the table-name key as on the
      // local stage: every caller is authenticated first, and a token holder could derive
      // either key, so the start key's check against the query is what protects (cursor.ts).
      const store = (queries ??= new EventQueries(
        createDynamoDbClient(config, { requestTimeoutMs: READ_REQUEST_TIMEOUT_MS }),
        config.tableName,
      )).withCursorSecrets(config.eventsApiTokens);
      if (caller === 'session') {
        await new SessionRevocations(queries.client, config.tableName).assertNotRevoked(
          request.headers,
        );
      }
      const path = request.path.replace(/\/+$/, '');

      if (path === '/events') {
        const params = parameters(request, LIST_EVENTS_PARAMETERS);
        const page = await store.listEvents({
          ...listOptions(params),
          type: params.type,
          user: params.user,
        });
        log.events = page.items.length;
        // `meta[i]` describes `events[i]`; the events stay the exact text, so they are not wrapped.
        return jsonTextResponse(
          200,
          `{"events":[${page.items.join(',')}],"meta":${JSON.stringify(page.meta)},"nextCursor":${JSON.stringify(page.nextCursor)}}`,
        );
      }
      if (path === '/event-types') {
        parameters(request, []);
        return jsonResponse(200, { eventTypes: await store.listEventTypes() });
      }
      if (path === '/event-counts') {
        const params = parameters(request, COUNT_EVENTS_PARAMETERS);
        const { since, until } = listOptions(params);
        const counts = await store.countEvents(
          { since, until, type: params.type, user: params.user },
          { deadline: Date.now() + COUNT_BUDGET_MS },
        );
        log.events = counts.total;
        return jsonResponse(200, counts);
      }
      if (path === '/deliveries') {
        const params = parameters(request, LIST_DELIVERIES_PARAMETERS);
        const page = await store.listDeliveries({
          ...listOptions(params),
          status: params.status === undefined ? undefined : parseDeliveryStatus(params.status),
        });
        log.events = page.items.length;
        return jsonResponse(200, { deliveries: page.items, nextCursor: page.nextCursor });
      }
      const deliveryEvents = /^\/deliveries\/([^/]+)\/events$/.exec(path);
      if (deliveryEvents) {
        const params = parameters(request, PAGE_PARAMETERS);
        const id = decodePathSegment(deliveryEvents[1]!);
        const page = await store.listDeliveryEvents(id, {
          limit: parseLimit(params.limit),
          cursor: params.cursor,
        });
        if (page === undefined) throw noSuchDelivery(id);
        log.events = page.items.length;
        return jsonTextResponse(
          200,
          `{"deliveryId":${JSON.stringify(id)},"events":[${page.items.join(',')}],"meta":${JSON.stringify(page.meta)},"notStored":${JSON.stringify(page.notStored)},"nextCursor":${JSON.stringify(page.nextCursor)}}`,
        );
      }
      const oneDelivery = /^\/deliveries\/([^/]+)$/.exec(path);
      if (oneDelivery) {
        parameters(request, []);
        const id = decodePathSegment(oneDelivery[1]!);
        const found = await store.getDelivery(id);
        if (found === undefined) throw noSuchDelivery(id);
        return jsonResponse(200, found);
      }
      const eventDeliveries = /^\/events\/([^/]+)\/deliveries$/.exec(path);
      if (eventDeliveries) {
        parameters(request, []);
        const uuid = decodePathSegment(eventDeliveries[1]!);
        const found = await store.listEventDeliveries(uuid);
        if (found === undefined) throw noSuchEvent(uuid);
        return jsonResponse(200, found);
      }
      const single = /^\/events\/([^/]+)$/.exec(path);
      if (single) {
        parameters(request, []);
        const uuid = decodePathSegment(single[1]!);
        const json = await store.getEventJson(uuid);
        if (json === undefined) throw noSuchEvent(uuid);
        return jsonTextResponse(200, json);
      }
      // Reaction outcomes: /reactions, /events/{uuid}/reactions (lib/read-api/reaction-routes.ts).
      const reactions = await reactionRoutes(path, request, config, log);
      if (reactions) return reactions;
      throw new RequestError(
        404,
        'not_found',
        'No such path: the read API serves /events, /events/{uuid}, /events/{uuid}/deliveries, /events/{uuid}/reactions, /deliveries, /deliveries/{id}, /deliveries/{id}/events, /reactions, /event-types and /event-counts.',
      );
    },
    ['eventsApiToken', 'oktaUiClientSecret'],
  );
  return async (event: ApiGatewayEvent) => withPrivateHeaders(await endpoint(event));
}
