/**
 * The service's error types. They carry no HTTP knowledge beyond a caller's refusal status;
 * `http.errorResponse` is the one place that turns any of them into a response.
 */

/** The request can never succeed as sent (4xx): auth, transport or shape. */
export class RequestError extends Error {
  override name = 'RequestError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly problems?: string[],
  ) {
    super(message);
  }
}

/** Too many failed attempts from one source (429): `retryAfterSeconds` becomes Retry-After. */
export class RateLimitedError extends RequestError {
  override name = 'RateLimitedError';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(429, 'too_many_failures', message);
  }
}

/**
 * A bearer access token refused (RFC 6750 §3): 401 `invalid_token` or 403 `insufficient_scope`;
 * `challenge` becomes the WWW-Authenticate header, which tells a client why without a body.
 */
export class BearerTokenError extends RequestError {
  override name = 'BearerTokenError';
  constructor(
    statusCode: 401 | 403,
    code: 'invalid_token' | 'insufficient_scope',
    message: string,
    readonly challenge: string,
  ) {
    super(statusCode, code, message);
  }
}

/**
 * The authorization server that issues access tokens could not be reached (discovery or keys):
 * the token may be fine, so the caller should retry (503), never be told it is invalid.
 */
export class IssuerUnavailableError extends Error {
  override name = 'IssuerUnavailableError';
}

/** Storage failed, throttled or ran out of time: the sender should retry (503). */
export class StorageUnavailableError extends Error {
  override name = 'StorageUnavailableError';
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Events could not be stored: ${reason}`, options);
  }
}

/** The deployment is missing configuration it must have (500, logged for the operator). */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The secrets store could not be read and no earlier value is at hand: retry later (503). */
export class SecretsUnavailableError extends Error {
  override name = 'SecretsUnavailableError';
}

/**
 * Okta's API refused or failed a request (System Log, event hooks, token endpoint). The message
 * is one line for the operator: Okta's error code and summary and what to check, never a
 * credential. `retryable` failures (5xx, network) may succeed on the next pass.
 */
export class OktaApiError extends Error {
  override name = 'OktaApiError';
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
