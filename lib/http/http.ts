/**
 * API Gateway in and out: turns HTTP API (payload v2) and REST API (payload v1) events into one
 * request shape, and is the one place that maps errors to HTTP responses.
 */
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
} from 'aws-lambda';
import { gzipSync } from 'node:zlib';
import {
  BearerTokenError,
  ConfigError,
  IssuerUnavailableError,
  RateLimitedError,
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

/** Lambda fails a synchronous invocation whose response payload (the result as JSON) is larger. */
export const MAX_RESPONSE_PAYLOAD_BYTES = 6 * 1024 * 1024;

function responsePayloadBytes(response: HttpResponse): number {
  return Buffer.byteLength(JSON.stringify(response));
}

/** True when an Accept-Encoding header allows gzip (`gzip` or `*`, not at q=0). */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  return (acceptEncoding ?? '').split(',').some((part) => {
    const [coding, ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    if (coding !== 'gzip' && coding !== '*') return false;
    const q = params.find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/**
 * The response as it is when Lambda can return it; else gzipped (base64, Content-Encoding: gzip)
 * for a caller that accepts gzip. A stored event is at most 400 KB gzipped (DynamoDB's item
 * limit), so every one of them fits gzipped; a caller that refuses gzip gets a 406 saying how
 * to ask, instead of the 5xx that Lambda's own refusal would become.
 */
export function fitResponsePayload(
  response: HttpResponse,
  acceptEncoding: string | undefined,
): HttpResponse {
  const bytes = responsePayloadBytes(response);
  if (bytes <= MAX_RESPONSE_PAYLOAD_BYTES) return response;
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
  const size = `This answer is ${mb(bytes)} as Lambda sends it, over its 6 MB limit`;
  if (response.isBase64Encoded || !acceptsGzip(acceptEncoding)) {
    throw new RequestError(
      406,
      'response_too_large',
      `${size}: ask again with "Accept-Encoding: gzip" (curl --compressed; npm run events does).`,
    );
  }
  const gzipped: HttpResponse = {
    ...response,
    headers: { ...response.headers, 'content-encoding': 'gzip', vary: 'accept-encoding' },
    body: gzipSync(response.body ?? '').toString('base64'),
    isBase64Encoded: true,
  };
  const gzippedBytes = responsePayloadBytes(gzipped);
  if (gzippedBytes <= MAX_RESPONSE_PAYLOAD_BYTES) return gzipped;
  // Only a delivery whose body hardly compresses gets here: stored events are smaller gzipped.
  throw new RequestError(
    406,
    'response_too_large',
    `${size}, and ${mb(gzippedBytes)} gzipped: it cannot be sent through the read API.`,
  );
}

/**
 * Errors to responses. RequestErrors are the caller's to see (a BearerTokenError adds its
 * WWW-Authenticate challenge); StorageUnavailableError, SecretsUnavailableError and
 * IssuerUnavailableError ask for a retry (503); anything else is ours and gets a
 * generic 500 (Okta retries 5xx once) with no message, stack or secret in the body.
 */
export function errorResponse(error: unknown): HttpResponse {
  if (error instanceof RequestError) {
    const body: Record<string, unknown> = { error: error.code, message: error.message };
    if (error.problems && error.problems.length > 0) body.problems = error.problems;
    const response = jsonResponse(error.statusCode, body);
    if (error instanceof RateLimitedError) {
      response.headers = { ...response.headers, 'retry-after': String(error.retryAfterSeconds) };
    }
    if (error instanceof BearerTokenError) {
      response.headers = { ...response.headers, 'www-authenticate': error.challenge };
    }
    return response;
  }
  if (error instanceof IssuerUnavailableError) {
    return {
      ...jsonResponse(503, {
        error: 'issuer_unavailable',
        message:
          "The access token could not be checked: the authorization server's keys could not be fetched just now; retry.",
      }),
      headers: { 'content-type': 'application/json', 'retry-after': '5' },
    };
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
