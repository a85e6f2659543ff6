/**
 * API Gateway in and out: turns HTTP API (payload v2) and REST API (payload v1) events into one
 * request shape, and is the one place that maps errors to HTTP responses.
 */
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
} from 'aws-lambda';
import {
  ConfigError,
  RequestError,
  SecretsUnavailableError,
  StorageUnavailableError,
} from '../errors';

export type ApiGatewayEvent = APIGatewayProxyEventV2 | APIGatewayProxyEvent;
export type HttpResponse = APIGatewayProxyStructuredResultV2 & { statusCode: number };

export interface HttpRequest {
  method: string;
  path: string;
  /** Header names lower-cased; repeated headers joined with ", " as API Gateway v2 does. */
  headers: Record<string, string>;
  /** The exact bytes the caller sent (base64 bodies decoded). */
  rawBody: Buffer;
  requestId: string;
  sourceIp: string | undefined;
  /** Query string parameters; a repeated parameter's values joined with "," as API Gateway v2 does. */
  query: Record<string, string>;
  /** Milliseconds the request spent in API Gateway and a cold start before the handler ran. */
  waitedMs: number;
  /** HTTP API events (payload 2.0) take Set-Cookie in the response's `cookies`, REST in a header. */
  payloadVersion: '1.0' | '2.0';
}

/** API Gateway gives up after 29 s: an older arrival time is not one (tests send 0). */
const MAX_PLAUSIBLE_WAIT_MS = 29_000;

/**
 * Time since API Gateway received the request, by its `timeEpoch`: Okta's 3 s clock starts
 * then, not when the handler starts after a cold start. 0 when the value is missing or absurd.
 */
function waitedSince(epochMs: number | undefined, now = Date.now()): number {
  if (epochMs === undefined || !Number.isFinite(epochMs)) return 0;
  const waited = now - epochMs;
  return waited > 0 && waited <= MAX_PLAUSIBLE_WAIT_MS ? waited : 0;
}

function isV2(event: ApiGatewayEvent): event is APIGatewayProxyEventV2 {
  return (event as APIGatewayProxyEventV2).version === '2.0';
}

function lowerCaseHeaders(event: ApiGatewayEvent): Record<string, string> {
  const headers: Record<string, string> = {};
  const add = (name: string, value: string | undefined) => {
    if (value === undefined) return;
    const key = name.toLowerCase();
    headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
  };
  const multi = isV2(event) ? undefined : event.multiValueHeaders;
  if (multi) {
    // v1 carries every repetition here; `headers` then only holds the last one.
    for (const [name, values] of Object.entries(multi)) for (const v of values ?? []) add(name, v);
  } else {
    for (const [name, value] of Object.entries(event.headers ?? {})) add(name, value);
  }
  return headers;
}

export function parseRequest(event: ApiGatewayEvent): HttpRequest {
  const body = event.body ?? '';
  const rawBody = event.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  if (isV2(event)) {
    const headers = lowerCaseHeaders(event);
    // HTTP API moves the Cookie header into `cookies`: put it back where every reader looks.
    if (event.cookies?.length && headers.cookie === undefined) {
      headers.cookie = event.cookies.join('; ');
    }
    return {
      payloadVersion: '2.0',
      method: event.requestContext.http.method.toUpperCase(),
      path: event.rawPath,
      headers,
      rawBody,
      requestId: event.requestContext.requestId,
      sourceIp: event.requestContext.http.sourceIp,
      query: { ...(event.queryStringParameters as Record<string, string> | undefined) },
      waitedMs: waitedSince(event.requestContext.timeEpoch),
    };
  }
  return {
    payloadVersion: '1.0',
    method: event.httpMethod.toUpperCase(),
    path: event.path,
    headers: lowerCaseHeaders(event),
    rawBody,
    requestId: event.requestContext?.requestId ?? '',
    sourceIp: event.requestContext?.identity?.sourceIp,
    query: Object.fromEntries(
      Object.entries(
        event.multiValueQueryStringParameters ?? event.queryStringParameters ?? {},
      ).map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : (value ?? '')]),
    ),
    waitedMs: waitedSince(event.requestContext?.requestTimeEpoch),
  };
}

export function jsonResponse(statusCode: number, body: unknown): HttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  };
}

/** A JSON body that is already text: stored events are passed through without re-serialising. */
export function jsonTextResponse(statusCode: number, body: string): HttpResponse {
  return { statusCode, headers: { 'content-type': 'application/json' }, body };
}

/** Adds a Set-Cookie the way the request's payload version delivers it. */
export function withCookie(
  response: HttpResponse,
  request: HttpRequest,
  setCookie: string,
): HttpResponse {
  return request.payloadVersion === '2.0'
    ? { ...response, cookies: [...(response.cookies ?? []), setCookie] }
    : { ...response, headers: { ...response.headers, 'set-cookie': setCookie } };
}

export function noContent(): HttpResponse {
  return { statusCode: 204, body: '' };
}

/**
 * Errors to responses. RequestErrors are the caller's to see; StorageUnavailableError and
 * SecretsUnavailableError ask for a retry (503); anything else is ours and gets a
 * generic 500 (Okta retries 5xx once) with no message, stack or secret in the body.
 */
export function errorResponse(error: unknown): HttpResponse {
  if (error instanceof RequestError) {
    const body: Record<string, unknown> = { error: error.code, message: error.message };
    if (error.problems && error.problems.length > 0) body.problems = error.problems;
    return jsonResponse(error.statusCode, body);
  }
  if (error instanceof StorageUnavailableError) {
    return jsonResponse(503, {
      error: 'storage_unavailable',
      message: 'The events could not be stored just now; nothing was acknowledged, so retry.',
    });
  }
  if (error instanceof SecretsUnavailableError) {
    return jsonResponse(503, {
      error: 'temporarily_unavailable',
      message:
        'The service could not read its configuration just now; nothing was stored, so retry.',
    });
  }
  if (error instanceof ConfigError) {
    return jsonResponse(500, {
      error: 'not_configured',
      message: 'The service is not configured to accept requests; its operator has been told.',
    });
  }
  return jsonResponse(500, {
    error: 'internal_error',
    message: 'The service failed unexpectedly; the request can be retried.',
  });
}
