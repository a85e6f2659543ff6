/**
 * Okta's one-time event hook verification, as Okta performs it (DESIGN.md §2): a GET carrying
 * X-Okta-Verification-Challenge, answered within 3 s (one retry) with 200, application/json and
 * {"verification": "<challenge>"}. Reports why Okta would say "Unable to verify event hook".
 */
import { randomBytes } from 'node:crypto';
import { isJsonContentType } from '../okta/okta-contract';
import {
  type Attempt,
  OKTA_TIMEOUT_MS,
  type RequestSpec,
  type SenderOptions,
  oktaHeaders,
  withOktaRetry,
} from './deliver';

export interface VerifyResult {
  verified: boolean;
  /** Why Okta would refuse the endpoint, when it would. */
  reason?: string;
  challenge: string;
  attempts: Attempt[];
}

/** Okta's challenges are random URL-safe strings like `2Okg-dJXuwv5HlaRYKm2SZ25F_fvTz1xUQ6OahPe`. */
export function newChallenge(): string {
  return randomBytes(30).toString('base64url');
}

export function verificationRequest(
  url: string,
  options: SenderOptions,
  challenge = newChallenge(),
): RequestSpec {
  return {
    method: 'GET',
    url,
    headers: { 'X-Okta-Verification-Challenge': challenge, ...oktaHeaders(options, 'GET') },
  };
}

function excerpt(body: string | undefined): string {
  const text = (body ?? '').trim();
  if (text === '') return 'an empty body';
  const short = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return /[\r\n]/.test(short) ? JSON.stringify(short) : short;
}

/** Undefined when Okta would accept this answer; otherwise the reason, in one sentence. */
export function verificationProblem(
  attempt: Attempt,
  challenge: string,
  timeoutMs: number,
): string | undefined {
  if (attempt.error === 'timeout') return `no answer within ${timeoutMs / 1000} s`;
  if (attempt.status === undefined) return `the request failed: ${attempt.error ?? 'no answer'}`;
  if (attempt.status !== 200) {
    return `status ${attempt.status}, expected 200 (body: ${excerpt(attempt.body)})`;
  }
  if (!isJsonContentType(attempt.contentType)) {
    return `Content-Type is ${attempt.contentType ? JSON.stringify(attempt.contentType) : 'missing'}, expected application/json`;
  }
  let answer: unknown;
  try {
    answer = JSON.parse(attempt.body ?? '');
  } catch {
    return `the body is not JSON: ${excerpt(attempt.body)}`;
  }
  const verification =
    typeof answer === 'object' && answer !== null && !Array.isArray(answer)
      ? (answer as Record<string, unknown>).verification
      : undefined;
  if (verification === undefined) {
    return `the body has no "verification" field: ${excerpt(attempt.body)}`;
  }
  if (verification !== challenge) {
    return `"verification" is ${JSON.stringify(verification)}, expected the challenge ${JSON.stringify(challenge)}`;
  }
  return undefined;
}

/** Verifies the endpoint as Okta does. The same challenge is sent again on the one retry. */
export async function verifyEndpoint(
  url: string,
  options: SenderOptions & { challenge?: string } = {},
): Promise<VerifyResult> {
  const timeoutMs = options.timeoutMs ?? OKTA_TIMEOUT_MS;
  const challenge = options.challenge ?? newChallenge();
  const { attempts } = await withOktaRetry(
    () => verificationRequest(url, options, challenge),
    timeoutMs,
  );
  const reason = verificationProblem(attempts[attempts.length - 1]!, challenge, timeoutMs);
  return reason === undefined
    ? { verified: true, challenge, attempts }
    : { verified: false, reason, challenge, attempts };
}
