/**
 * The simulator's HTTP behaviour against a scripted local server (faults a real endpoint will not
 * produce on demand): Okta's verification checks, and Okta's retry rules (one retry after a
 * timeout or a 5xx, none after a 4xx). The library's timeout is shortened here; the CLI's is not.
 */
import { deliver } from '../../lib/okta-simulator/deliver';
import { verifyEndpoint } from '../../lib/okta-simulator/verify';
import { runScript } from '../helpers/run';
import {
  type Answer,
  type TestServer,
  echoChallenge,
  startTestServer,
} from '../helpers/test-server';

/** For an endpoint that hangs: the test waits this long per attempt. */
const SHORT_TIMEOUT_MS = 1000;
/** For an endpoint that answers: long enough that a loaded machine never turns an answer into a timeout. */
const ANSWER_TIMEOUT_MS = 10_000;
const servers: TestServer[] = [];
async function server(answer: Parameters<typeof startTestServer>[0]) {
  const started = await startTestServer(answer);
  servers.push(started);
  return started;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const body = JSON.stringify({ eventType: 'com.okta.event_hook', data: { events: [] } });

describe('verify', () => {
  it('sends the challenge and headers Okta sends, and passes an endpoint that echoes it', async () => {
    const endpoint = await server(echoChallenge);
    const result = await verifyEndpoint(endpoint.url, { secret: 'Basic abc' });
    expect(result).toMatchObject({ verified: true });
    expect(endpoint.requests).toHaveLength(1);
    const [request] = endpoint.requests;
    expect(request!.method).toBe('GET');
    expect(request!.headers).toMatchObject({
      'x-okta-verification-challenge': result.challenge,
      accept: 'application/json',
      'user-agent': 'Okta-Integrations',
      'x-okta-request-id': expect.stringMatching(/^[\w-]{20,}$/),
      authorization: 'Basic abc',
    });
    const second = await verifyEndpoint(endpoint.url, { secret: 'Basic abc' });
    expect(second.challenge).not.toBe(result.challenge);
  });

  it.each<[string, Answer, RegExp]>([
    [
      'a wrong verification',
      { status: 200, contentType: 'application/json', body: '{"verification":"nope"}' },
      /^"verification" is "nope", expected the challenge "[\w-]+"$/,
    ],
    [
      'no verification field',
      { status: 200, contentType: 'application/json', body: '{"ok":true}' },
      /^the body has no "verification" field: \{"ok":true\}$/,
    ],
    [
      'a body that is not JSON',
      { status: 200, contentType: 'application/json', body: 'hello' },
      /^the body is not JSON: hello$/,
    ],
    [
      'a text/plain answer',
      { status: 200, contentType: 'text/plain', body: '{"verification":"x"}' },
      /^Content-Type is "text\/plain", expected application\/json$/,
    ],
    ['a 401', { status: 401, body: 'no' }, /^status 401, expected 200 \(body: no\)$/],
  ])('fails on %s, with the reason, without a retry', async (_, answer, reason) => {
    const endpoint = await server(() => answer);
    const result = await verifyEndpoint(endpoint.url, {});
    expect(result.verified).toBe(false);
    expect(result.reason).toMatch(reason);
    expect(endpoint.requests).toHaveLength(1);
  });

  it('retries a 500 once, with the same challenge, then fails', async () => {
    const endpoint = await server(() => ({ status: 500 }));
    const result = await verifyEndpoint(endpoint.url, {});
    expect(result).toMatchObject({
      verified: false,
      reason: 'status 500, expected 200 (body: an empty body)',
    });
    expect(endpoint.requests.map((r) => r.headers['x-okta-verification-challenge'])).toEqual([
      result.challenge,
      result.challenge,
    ]);
  });

  it('fails when the endpoint hangs past the timeout, after one retry', async () => {
    const endpoint = await server(() => 'hang');
    const result = await verifyEndpoint(endpoint.url, { timeoutMs: SHORT_TIMEOUT_MS });
    expect(result).toMatchObject({ verified: false, reason: 'no answer within 1 s' });
    expect(result.attempts.map((a) => a.error)).toEqual(['timeout', 'timeout']);
    expect(endpoint.requests).toHaveLength(2);
  });

  it('passes when the retry succeeds', async () => {
    const endpoint = await server((request, n) => (n === 0 ? 'hang' : echoChallenge(request)));
    const result = await verifyEndpoint(endpoint.url, { timeoutMs: SHORT_TIMEOUT_MS });
    expect(result.verified).toBe(true);
    expect(endpoint.requests).toHaveLength(2);
  });

  it("as a command, waits Okta's 3 s twice and prints why it fails", async () => {
    const endpoint = await server(() => 'hang');
    const result = await runScript('scripts/okta.ts', ['verify', '--url', endpoint.url]);
    expect(result.stdout.trim()).toBe(
      "NOT VERIFIED: no answer within 3 s (Okta's one retry included: timeout, timeout)",
    );
    expect(result.code).toBe(1);
    expect(endpoint.requests).toHaveLength(2);
  }, 20_000);
});

describe('deliver', () => {
  it.each<[string, Answer[], string, number]>([
    ['a 204', [{ status: 204 }], 'accepted', 1],
    ['a 200', [{ status: 200 }], 'accepted', 1],
    ['a 503 then a 204', [{ status: 503 }, { status: 204 }], 'accepted', 2],
    ['a timeout then a 204', ['hang', { status: 204 }], 'accepted', 2],
    ['two 500s', [{ status: 500 }, { status: 500 }, { status: 204 }], 'failed', 2],
    ['two timeouts', ['hang', 'hang', { status: 204 }], 'failed', 2],
    ['a timeout then a 400', ['hang', { status: 400 }, { status: 204 }], 'refused', 2],
    ['a 400', [{ status: 400 }, { status: 204 }], 'refused', 1],
    ['a 401', [{ status: 401 }, { status: 204 }], 'refused', 1],
    ['a 413', [{ status: 413 }, { status: 204 }], 'refused', 1],
  ])(
    "after %s: Okta's outcome and attempts, the same body each time",
    async (_, answers, outcome, attempts) => {
      const endpoint = await server((_, n) => answers[n] ?? { status: 204 });
      const result = await deliver(endpoint.url, body, {
        secret: 's',
        timeoutMs: answers.includes('hang') ? SHORT_TIMEOUT_MS : ANSWER_TIMEOUT_MS,
      });
      expect(result.outcome).toBe(outcome);
      expect(result.attempts).toHaveLength(attempts);
      expect(endpoint.requests).toHaveLength(attempts);
      for (const request of endpoint.requests) {
        expect(request).toMatchObject({ method: 'POST', body });
        expect(request.headers).toMatchObject({
          'content-type': 'application/json',
          'user-agent': 'Okta-Integrations',
          authorization: 's',
        });
      }
    },
  );

  it('retries once when nothing listens, then reports the failure', async () => {
    const endpoint = await server(() => ({ status: 204 }));
    await endpoint.close();
    const result = await deliver(endpoint.url, body, { timeoutMs: SHORT_TIMEOUT_MS });
    expect(result.outcome).toBe('failed');
    expect(result.attempts.map((a) => a.error)).toEqual(['ECONNREFUSED', 'ECONNREFUSED']);
  });

  it('via Hookdeck, retries as the same Hookdeck event with the attempt count going up', async () => {
    const endpoint = await server((_, n) => (n === 0 ? { status: 502 } : { status: 204 }));
    const result = await deliver(endpoint.url, body, {
      viaHookdeck: true,
      signingSecret: 'whsec_1',
      timeoutMs: ANSWER_TIMEOUT_MS,
    });
    expect(result.outcome).toBe('accepted');
    const [first, second] = endpoint.requests.map((r) => r.headers);
    expect(first!['x-hookdeck-eventid']).toMatch(/^evt_\w+$/);
    expect(second!['x-hookdeck-eventid']).toBe(first!['x-hookdeck-eventid']);
    expect(second!['idempotency-key']).toBe(first!['idempotency-key']);
    expect([first!['x-hookdeck-attempt-count'], second!['x-hookdeck-attempt-count']]).toEqual([
      '1',
      '2',
    ]);
    expect(second!['x-hookdeck-signature']).toBe(first!['x-hookdeck-signature']);
  });
});

describe('send, as a command', () => {
  it('counts refused deliveries as lost, retries none of them, and exits 1', async () => {
    const endpoint = await server(() => ({
      status: 401,
      contentType: 'application/json',
      body: '{"error":"unauthorized","message":"The request has no authorization header."}',
    }));
    const result = await runScript('scripts/okta.ts', [
      'send',
      '--url',
      endpoint.url,
      '--type',
      'all',
      '--count',
      '10',
      '--per-request',
      '5',
    ]);
    expect(result.code).toBe(1);
    expect(endpoint.requests).toHaveLength(2);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      /^\[1\/2\] {2}401 refused: The request has no authorization header\. {2}5 events [\w.,]+ {2}eventId [\w-]+ {2}\d+ ms$/,
    );
    expect(lines.at(-2)).toMatch(
      /^requests 2 \(0 redeliveries\), events 10 \(unique\), accepted 0, retried 0, refused 2, failed 0, latency p50 \d+ ms p99 \d+ ms$/,
    );
    expect(lines.at(-1)).toBe('LOST 10 of 10 events: no delivery carrying them was accepted');
  });

  it('counts a delivery saved by its retry as retried and accepted, and exits 0', async () => {
    const endpoint = await server((_, n) => (n === 0 ? { status: 503 } : { status: 204 }));
    const result = await runScript('scripts/okta.ts', [
      'send',
      '--url',
      endpoint.url,
      '--type',
      'user.session.start',
      '--count',
      '3',
      '--per-request',
      '3',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^\[1\/1\] {2}503 → 204 accepted {2}3 events user\.session\.start/,
    );
    expect(result.stdout).toContain('accepted 1, retried 1, refused 0, failed 0');
    expect(endpoint.requests).toHaveLength(2);
  });
});
