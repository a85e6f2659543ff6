/**
 * GET /reactions?status=&name=&since=&until=&limit=&cursor= and GET /events/{uuid}/reactions:
 * what the reactions did (lib/reactions/outcomes.ts), for people and for `npm run events --
 * reactions --url`. Same authentication, parameters and errors as the rest of the read API.
 */
import type { Config } from '../config';
import { RequestError } from '../errors';
import { type HttpRequest, type HttpResponse, jsonResponse } from '../http/http';
import type { RequestLog } from '../logger';
import { OutcomeQueries, parseReactionName, parseStatus } from '../reactions/outcome-queries';
import { READ_REQUEST_TIMEOUT_MS, createDynamoDbClient } from '../store/dynamodb';
import { decodePathSegment, listOptions, parameters } from './route-parameters';

const LIST_REACTIONS_PARAMETERS = ['status', 'name', 'since', 'until', 'limit', 'cursor'];

let containerQueries: OutcomeQueries | undefined;

function queriesFor(config: Config): OutcomeQueries {
  if (containerQueries?.tableName !== config.tableName) {
    containerQueries = new OutcomeQueries(
      createDynamoDbClient(config, { requestTimeoutMs: READ_REQUEST_TIMEOUT_MS }),
      config.tableName,
    );
  }
  return containerQueries;
}

/** The response for a reactions path, or undefined when `path` is none of them. */
export async function reactionRoutes(
  path: string,
  request: HttpRequest,
  config: Config,
  log: RequestLog,
  queries: OutcomeQueries = queriesFor(config).withCursorSecrets(config.eventsApiTokens),
): Promise<HttpResponse | undefined> {
  if (path === '/reactions') {
    const params = parameters(request, LIST_REACTIONS_PARAMETERS);
    const page = await queries.list({
      ...listOptions(params),
      status: params.status === undefined ? undefined : parseStatus(params.status),
      name: params.name === undefined ? undefined : parseReactionName(params.name),
    });
    log.events = page.items.length;
    return jsonResponse(200, { reactions: page.items, nextCursor: page.nextCursor });
  }
  const ofEvent = /^\/events\/([^/]+)\/reactions$/.exec(path);
  if (ofEvent) {
    parameters(request, []);
    const uuid = decodePathSegment(ofEvent[1]!);
    const outcomes = await queries.forEvent(uuid);
    if (outcomes === undefined) {
      throw new RequestError(
        404,
        'not_found',
        `No event with uuid ${JSON.stringify(uuid.slice(0, 100))} is stored.`,
      );
    }
    return jsonResponse(200, { uuid, reactions: outcomes });
  }
  return undefined;
}
