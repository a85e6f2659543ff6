/**
 * `forward`: POSTs each matching event, exactly as stored, to FORWARD_URL, signed as Standard
 * Webhooks (standardwebhooks.com) specifies, so any of its libraries verifies it:
 *
 *   webhook-id: <the event's uuid>          (the same on every retry: receivers dedupe by it;
 *                                            escaped when not header-safe, see webhookId)
 *   webhook-timestamp: <epoch seconds of this attempt>
 *   webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>
 *
 * key = the base64 after `whsec_` in FORWARD_SECRET; with several secrets (rotation) each signs
 * and the signatures are space-separated. A 2xx is success; any other status, a timeout or a
 * connection error is a failure, retried (run-reactions.ts). Off unless FORWARD_URL is set.
 */
import { createHmac } from 'node:crypto';
import type { Config } from '../config';
import { ConfigError } from '../errors';
import type { Reaction } from './reaction';

const SECRET_PREFIX = 'whsec_';

/** The HMAC key of a `whsec_<base64>` secret; the error never contains the secret. */
export function signingKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : '';
  const key = Buffer.from(encoded, 'base64');
  if (key.length < 16 || key.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, '')) {
    throw new ConfigError(
      'FORWARD_SECRET must be a Standard Webhooks secret: whsec_ followed by base64 of at least 16 bytes',
    );
  }
  return key;
}

/** `v1,<signature>` for each secret, space-separated, as the webhook-signature header takes it. */
export function standardWebhookSignature(
  secrets: readonly string[],
  id: string,
  timestamp: number,
  body: string,
): string {
  return secrets
    .map((secret) => {
      const mac = createHmac('sha256', signingKey(secret));
      return `v1,${mac.update(`${id}.${timestamp}.${body}`).digest('base64')}`;
    })
    .join(' ');
}

/** FORWARD_URL, checked: absolute http(s); https on deployed stages (events carry personal data). */
export function forwardUrl(config: Config): URL {
  const raw = config.reactions.forwardUrl ?? '';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('FORWARD_URL must be an absolute http(s) URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError('FORWARD_URL must be an http or https URL');
  }
  if (url.protocol === 'http:' && config.stage !== 'local') {
    throw new ConfigError(`FORWARD_URL must be https on stage ${config.stage}`);
  }
  return url;
}

/** Visible ASCII but `%`: sent as is. Anything else (a control character) cannot be a header. */
const HEADER_SAFE_ID = /^[\x21-\x24\x26-\x7e]+$/;

/**
 * The `webhook-id` of an event: its uuid when header-safe (always, for Okta's uuids); otherwise
 * each other UTF-16 unit as `%XXXX`. Stable across retries, and unique: an escaped id holds a
 * `%`, which a uuid sent as is never does, and `%XXXX` decodes one way only.
 */
export function webhookId(uuid: string): string {
  if (HEADER_SAFE_ID.test(uuid)) return uuid;
  let id = '';
  for (let i = 0; i < uuid.length; i++) {
    const unit = uuid.charCodeAt(i);
    id +=
      unit >= 0x21 && unit <= 0x7e && unit !== 0x25
        ? uuid[i]
        : `%${unit.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return id;
}

/** The request for one attempt (headers and body exactly as sent). */
export function forwardRequest(
  config: Config,
  uuid: string,
  body: string,
  now = Date.now(),
): { url: URL; headers: Record<string, string>; body: string } {
  const url = forwardUrl(config);
  const secrets = config.reactions.forwardSecrets;
  if (secrets.length === 0) {
    throw new ConfigError('FORWARD_SECRET is not set: forwarded events must be signed');
  }
  const timestamp = Math.floor(now / 1000);
  const id = webhookId(uuid);
  return {
    url,
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'okta-event-hooks-forward',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': standardWebhookSignature(secrets, id, timestamp, body),
    },
  };
}

/** Why an attempt failed, naming the receiver by origin only: a URL may hold a token. */
export class ForwardError extends Error {
  override name = 'ForwardError';
}

/** What is read of a receiver's answer: only its status counts, and the function has 256 MB. */
export const MAX_RESPONSE_BYTES = 4096;

/**
 * Reads a small answer to its end (the connection can then be reused); a larger one is cut off
 * after MAX_RESPONSE_BYTES by cancelling the body, which closes the connection.
 */
async function discardBody(response: Response): Promise<void> {
  const reader = response.body?.getReader();
  if (!reader) return;
  let read = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      read += value.byteLength;
      if (read >= MAX_RESPONSE_BYTES) {
        await reader.cancel();
        return;
      }
    }
  } catch {
    // A body cut short (or aborted by the same signal) changes nothing: the status decides.
  }
}

export async function postEvent(
  config: Config,
  uuid: string,
  body: string,
  signal: AbortSignal,
): Promise<void> {
  const request = forwardRequest(config, uuid, body);
  const origin = request.url.origin;
  const timeoutMs = config.reactions.forwardTimeoutMs;
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      // A redirect is not an acknowledgement: it is answered as a failure and retried.
      redirect: 'manual',
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    const err = error as Error & { cause?: { code?: string } };
    if (err.name === 'TimeoutError') {
      throw new ForwardError(`no answer from ${origin} within ${timeoutMs / 1000} s`);
    }
    throw new ForwardError(`cannot reach ${origin} (${err.cause?.code ?? err.message})`);
  }
  await discardBody(response);
  if (response.status < 200 || response.status > 299) {
    throw new ForwardError(`${origin} answered ${response.status}`);
  }
}

export const forward: Reaction = {
  name: 'forward',
  eventTypes: (config) => config.reactions.forwardTypes,
  enabled: (config) => config.reactions.forwardUrl !== undefined,
  async handle(_event, context) {
    await postEvent(context.config, context.uuid, context.json, context.signal);
  },
};
