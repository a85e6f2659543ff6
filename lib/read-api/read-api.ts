/**
 * GET /events, /events/{uuid}, /deliveries, /deliveries/{id}: stored events and deliveries over HTTP,
 * for people and for the CLI against a deployed stage. Events are returned as the exact JSON
 * text Okta sent, spliced into the response without re-serialising.
 */
import { authenticateReader } from '../http/auth';
import { READ_REQUEST_TIMEOUT_MS, createDynamoDbClient } from '../store/dynamodb';
import { type EndpointDeps, createEndpoint } from '../http/endpoint';
import { RequestError } from '../errors';
import { EventQueries, parseLimit, parseTime } from '../store/event-queries';
import { type HttpRequest, jsonResponse, jsonTextResponse } from '../http/http';
import { reactionRoutes } from './reaction-routes';

const LIST_EVENTS_PARAMETERS = ['type', 'user', 'since', 'until', 'limit', 'cursor'];
const LIST_DELIVERIES_PARAMETERS = ['since', 'until', 'limit', 'cursor'];

/** Validated query parameters; unknown or empty ones are refused rather than ignored. */
export function parameters(
  request: HttpRequest,
  allowed: string[],
): Record<string, string | undefined> {
  const found: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(request.query)) {
    if (!allowed.includes(name)) {
      throw new RequestError(
        400,
        'unknown_parameter',
        allowed.length === 0
          ? `This path takes no query parameters, got "${name.slice(0, 50)}".`
          : `Unknown query parameter "${name.slice(0, 50)}"; this path takes: ${allowed.join(', ')}.`,
      );
    }
    if (value === '')
      throw new RequestError(400, 'invalid_parameter', `${name} must not be empty.`);
    found[name] = value;
  }
  return found;
}

export function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new RequestError(
      400,
      'invalid_parameter',
      'The id in the path is not valid percent-encoding.',
    );
  }
}

export function listOptions(params: Record<string, string | undefined>) {
  return {
    since: params.since === undefined ? undefined : parseTime(params.since, 'since'),
    until: params.until === undefined ? undefined : parseTime(params.until, 'until'),
    limit: parseLimit(params.limit),
    cursor: params.cursor,
  };
}

export function createReadApiHandler(deps: EndpointDeps & { queries?: EventQueries } = {}) {
  let queries = deps.queries; // one client per container, made on first use

  return createEndpoint(
    deps,
    (request, config) => authenticateReader(request.headers, config),
    async ({ request, config, log }) => {
      const store = (queries ??= new EventQueries(
        createDynamoDbClient(config, { requestTimeoutMs: READ_REQUEST_TIMEOUT_MS }),
        config.tableName,
      ));
      const path = request.path.replace(/\/+$/, '');

      if (path === '/events') {
        const params = parameters(request, LIST_EVENTS_PARAMETERS);
        const page = await store.listEvents({
          ...listOptions(params),
          type: params.type,
          user: params.user,
        });
        log.events = page.items.length;
        return jsonTextResponse(
          200,
          `{"events":[${page.items.join(',')}],"nextCursor":${JSON.stringify(page.nextCursor)}}`,
        );
      }
      if (path === '/deliveries') {
        const page = await store.listDeliveries(
          listOptions(parameters(request, LIST_DELIVERIES_PARAMETERS)),
        );
        log.events = page.items.length;
        return jsonResponse(200, { deliveries: page.items, nextCursor: page.nextCursor });
      }
      const oneDelivery = /^\/deliveries\/([^/]+)$/.exec(path);
      if (oneDelivery) {
        parameters(request, []);
        const id = decodePathSegment(oneDelivery[1]!);
        const found = await store.getDelivery(id);
        if (found === undefined) {
          throw new RequestError(
            404,
            'not_found',
            `No delivery with id ${JSON.stringify(id.slice(0, 100))} is stored.`,
          );
        }
        return jsonResponse(200, found);
      }
      const single = /^\/events\/([^/]+)$/.exec(path);
      if (single) {
        parameters(request, []);
        const uuid = decodePathSegment(single[1]!);
        const json = await store.getEventJson(uuid);
        if (json === undefined) {
          throw new RequestError(
            404,
            'not_found',
            `No event with uuid ${JSON.stringify(uuid.slice(0, 100))} is stored.`,
          );
        }
        return jsonTextResponse(200, json);
      }
      // Reaction outcomes: /reactions, /events/{uuid}/reactions (lib/read-api/reaction-routes.ts).
      const reactions = await reactionRoutes(path, request, config, log);
      if (reactions) return reactions;
      throw new RequestError(
        404,
        'not_found',
        'No such path: the read API serves /events, /events/{uuid}, /events/{uuid}/reactions, /deliveries, /deliveries/{id} and /reactions.',
      );
    },
    ['eventsApiToken'],
  );
}
