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
