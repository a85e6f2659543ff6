/**
 * `forward`: POSTs each matching event, exactly as stored, to FORWARD_URL, signed as Standard
 * Webhooks (standardwebhooks.com) specifies, so any of its libraries verifies it:
 *
 *   webhook-id: <the event's uuid>          (the same on every retry: receivers dedupe by it)
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
  return {
    url,
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'okta-event-hooks-forward',
      'webhook-id': uuid,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': standardWebhookSignature(secrets, uuid, timestamp, body),
    },
  };
}

/** Why an attempt failed, naming the receiver by origin only: a URL may hold a token. */
export class ForwardError extends Error {
  override name = 'ForwardError';
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
  // Read the body (bounded by the same signal) so the connection can be reused.
  await response.arrayBuffer().catch(() => undefined);
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
