/**
 * Reactions without DynamoDB: matching, the registry, Standard Webhooks signatures (verified with
 * the `standardwebhooks` package, not with this project's code), EventBridge entries against a
 * recorded client, and the runner's retries over an in-memory outcome store.
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { Webhook } from 'standardwebhooks';
import { type Config, loadConfig } from '../../lib/config';
import { ConfigError } from '../../lib/errors';
import {
  MAX_REQUEST_BYTES,
  type PutEventsClient,
  createEventBridgeReaction,
  requestGroups,
} from '../../lib/reactions/eventbridge';
import { forwardRequest, signingKey } from '../../lib/reactions/forward';
import type { Claim, ClaimRequest, OutcomeStore } from '../../lib/reactions/outcomes';
import { shortError } from '../../lib/reactions/outcomes';
import { type Reaction, type ReactionEvent, matchesEventType } from '../../lib/reactions/reaction';
import { REACTIONS, checkRegistry, enabledReactions } from '../../lib/reactions/registry';
import {
  ReactionRunner,
  type ReactionJob,
  jobForEventItem,
  retryPauseMs,
} from '../../lib/reactions/run-reactions';
import { eventItem } from '../../lib/store/event-items';
import { oktaEvent } from '../../lib/okta-simulator/events';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SECOND_SECRET = 'whsec_' + Buffer.from('another key of thirty-two bytes!').toString('base64');

function config(env: NodeJS.ProcessEnv = {}): Config {
  return loadConfig({ STAGE: 'local', LOG_FORMAT: 'json', ...env });
}

describe('matching', () => {
  it.each([
    [['user.lifecycle.create'], 'user.lifecycle.create', true],
    [['user.lifecycle.create'], 'user.lifecycle.created', false],
    [['user.lifecycle.*'], 'user.lifecycle.deactivate', true],
    [['user.lifecycle.*'], 'user.lifecycleX.create', false],
    [['user.lifecycle.*'], 'user.lifecycle', false],
    [['*'], 'anything.at.all', true],
    [['group.*', 'user.session.start'], 'user.session.start', true],
    [[], 'user.session.start', false],
  ])('%j matches %s: %s', (patterns, type, expected) => {
    expect(matchesEventType(patterns, type)).toBe(expected);
  });
});

describe('the registry', () => {
  it('has unique, well-formed names, and nothing is on by default', () => {
    expect(() => checkRegistry(REACTIONS)).not.toThrow();
    expect(enabledReactions(config())).toEqual([]);
  });

  it('refuses a duplicate or malformed name', () => {
    const r = (name: string): Reaction => ({ name, eventTypes: ['*'], handle: async () => {} });
    expect(() => checkRegistry([r('a'), r('a')])).toThrow(/Two reactions are named "a"/);
    expect(() => checkRegistry([r('Has Space')])).toThrow(/lower-case/);
  });

  it('turns each built-in on by its configuration', () => {
    const names = (env: NodeJS.ProcessEnv) => enabledReactions(config(env)).map((r) => r.name);
    expect(names({ FORWARD_URL: 'http://127.0.0.1:9/' })).toEqual(['forward']);
    expect(names({ EVENT_BUS_NAME: 'okta-event-hooks-staging' })).toEqual(['eventbridge']);
    expect(names({ REACTIONS: 'welcome-new-user' })).toEqual(['welcome-new-user']);
  });

  it("matches FORWARD_TYPES, and the guide's example only user.lifecycle.create", () => {
    const cfg = config({
      FORWARD_URL: 'http://127.0.0.1:9/',
      FORWARD_TYPES: 'user.lifecycle.*, group.user_membership.add',
      REACTIONS: 'welcome-new-user',
    });
    const matched = (type: Parameters<typeof oktaEvent>[0]) => {
      const event = oktaEvent(type);
      const item = eventItem(
        { event, rawJson: JSON.stringify(event) },
        { origin: 'hook', receivedAt: new Date().toISOString(), expiresAt: undefined },
      )!;
      return jobForEventItem(item, enabledReactions(cfg), cfg).reactions.map((r) => r.name);
    };
    expect(matched('user.lifecycle.create')).toEqual(['forward', 'welcome-new-user']);
    expect(matched('user.lifecycle.deactivate')).toEqual(['forward']);
    expect(matched('group.user_membership.add')).toEqual(['forward']);
    expect(matched('user.session.start')).toEqual([]);
  });
});

describe('forward signatures (verified by the standardwebhooks package)', () => {
  const body =
    '{"uuid":"u-1","eventType":"user.lifecycle.create","published":"2026-11-26T15:53:16.363Z"}';

  it('are Standard Webhooks signatures over id.timestamp.body', () => {
    const cfg = config({ FORWARD_URL: 'http://127.0.0.1:9/hook', FORWARD_SECRET: SECRET });
    const request = forwardRequest(cfg, 'u-1', body);
    expect(request.headers['webhook-id']).toBe('u-1');
    expect(request.headers['webhook-timestamp']).toMatch(/^\d{10}$/);
    expect(request.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(SECRET).verify(request.body, request.headers)).toEqual(JSON.parse(body));
    // The check can fail: another body, or another secret, is refused.
    expect(() => new Webhook(SECRET).verify(body.replace('u-1', 'u-2'), request.headers)).toThrow(
      /No matching signature/,
    );
    expect(() => new Webhook(SECOND_SECRET).verify(request.body, request.headers)).toThrow();
  });

  it('carry one signature per secret during a rotation, each verifying', () => {
    const cfg = config({
      FORWARD_URL: 'http://127.0.0.1:9/hook',
      FORWARD_SECRET: `${SECRET},${SECOND_SECRET}`,
    });
    const { headers } = forwardRequest(cfg, 'u-1', body);
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    for (const secret of [SECRET, SECOND_SECRET]) {
      expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    }
  });

  it('refuse a secret that is not whsec_ base64, without echoing it', () => {
    for (const bad of ['plain-secret-value', 'whsec_', 'whsec_c2hvcnQ=', 'whsec_not base64!!']) {
      expect(() => signingKey(bad)).toThrow(ConfigError);
      try {
        signingKey(bad);
      } catch (error) {
        expect((error as Error).message).not.toContain(bad.slice(6) || '\u0000');
      }
    }
    expect(signingKey(SECRET)).toHaveLength(24);
  });

  it('need a secret and an https URL on a deployed stage', () => {
    expect(() => forwardRequest(config({ FORWARD_URL: 'http://127.0.0.1:9/' }), 'u', body)).toThrow(
      /FORWARD_SECRET is not set/,
    );
    const staging = config({
      STAGE: 'staging',
      FORWARD_URL: 'http://x.example/',
      FORWARD_SECRET: SECRET,
    });
    expect(() => forwardRequest(staging, 'u', body)).toThrow(/must be https on stage staging/);
    expect(() =>
      forwardRequest(config({ FORWARD_URL: 'ftp://x', FORWARD_SECRET: SECRET }), 'u', body),
    ).toThrow(/http or https/);
  });
});

describe('lastError', () => {
  it('keeps URLs to their origin and stays short', () => {
    const error = new Error('failed https://user:pw@hooks.example.com/p/a?token=s3cret here');
    expect(shortError(error)).toBe('Error: failed https://hooks.example.com here');
    expect(shortError(new Error('cannot reach http://127.0.0.1:9/x?t=1: ECONNREFUSED'))).toBe(
      'Error: cannot reach http://127.0.0.1:9: ECONNREFUSED',
    );
    expect(shortError(new Error('x'.repeat(1000)))).toHaveLength(300);
  });
});

/** A PutEvents client that records each request and fails the entries `fail` names. */
function recordedClient(
  fail: (detail: string, call: number) => string | undefined = () => undefined,
) {
  const calls: PutEventsCommand['input'][] = [];
  const client: PutEventsClient = {
    async send(command) {
      calls.push(command.input);
      const call = calls.length;
      const Entries = (command.input.Entries ?? []).map((entry) => {
        const code = fail(entry.Detail ?? '', call);
        return code
          ? { ErrorCode: code, ErrorMessage: 'recorded failure' }
          : { EventId: `id-${call}` };
      });
      return { FailedEntryCount: Entries.filter((e) => 'ErrorCode' in e).length, Entries };
    },
  };
  return { client, calls };
}

/** OutcomeStore's claim and finish in memory: enough for the runner's logic. */
function memoryOutcomes() {
  const items = new Map<
    string,
    { status: string; attempts: number; token?: string; error?: unknown }
  >();
  let tokens = 0;
  const store = {
    items,
    async claim(request: ClaimRequest): Promise<Claim> {
      const key = `${request.reaction}|${request.uuid}`;
      const item = items.get(key);
      if (item && item.status !== 'failed') {
        return { claimed: false, status: item.status as 'succeeded', attempts: item.attempts };
      }
      const token = String(++tokens);
      const previousAttempts = item?.attempts ?? 0;
      items.set(key, { status: 'running', attempts: previousAttempts + 1, token });
      return { claimed: true, token, previousAttempts };
    },
    async finish(
      request: { reaction: string; uuid: string },
      token: string,
      result: { status: string; attempts: number; error?: unknown },
    ) {
      const key = `${request.reaction}|${request.uuid}`;
      if (items.get(key)?.token !== token) return false;
      items.set(key, { status: result.status, attempts: result.attempts, error: result.error });
      return true;
    },
  };
  return store;
}

function jobs(
  count: number,
  reactions: Reaction[],
  detail = (i: number) => `{"n":${i}}`,
): ReactionJob[] {
  return Array.from({ length: count }, (_, i) => {
    const event = {
      uuid: `uuid-${i}`,
      eventType: 'user.session.start',
      published: '2026-11-26T15:53:16.363Z',
    };
    return {
      uuid: event.uuid,
      json: detail(i),
      event: event as ReactionEvent,
      eventType: event.eventType,
      expiresAt: undefined,
      receivedAt: undefined,
      reactions,
      matchErrors: new Map(),
    };
  });
}

function runner(cfg: Config, outcomes: ReturnType<typeof memoryOutcomes>) {
  return new ReactionRunner({
    outcomes: outcomes as unknown as OutcomeStore,
    config: cfg,
    leaseMs: 60_000,
    quiet: true,
    sleep: async () => {},
  });
}

describe('eventbridge against a recorded client', () => {
  const cfg = config({ STAGE: 'staging', EVENT_BUS_NAME: 'okta-event-hooks-staging' });

  it("puts each event as Okta's Log Streaming does, 10 a request", async () => {
    const { client, calls } = recordedClient();
    const reaction = createEventBridgeReaction({ client });
    const outcomes = memoryOutcomes();
    const all = jobs(23, [reaction]);
    const results = await runner(cfg, outcomes).runBatching(all, new AbortController().signal);
    expect(calls.map((c) => c.Entries!.length)).toEqual([10, 10, 3]);
    expect(calls[0]!.Entries![0]).toEqual({
      EventBusName: 'okta-event-hooks-staging',
      Source: 'okta-event-hooks.staging',
      DetailType: 'SystemLog',
      Detail: '{"n":0}',
      Time: new Date('2026-11-26T15:53:16.363Z'),
    });
    expect([...results.values()].flat().map((r) => r.status)).toEqual(Array(23).fill('succeeded'));
  });

  it('retries only the entries PutEvents refused', async () => {
    // The entries of events 3 and 7 fail the first time they are sent, 7 also the second time.
    const { client, calls } = recordedClient((detail, call) =>
      (detail === '{"n":3}' && call === 1) || (detail === '{"n":7}' && call <= 2)
        ? 'ThrottlingException'
        : undefined,
    );
    const reaction = createEventBridgeReaction({ client });
    const outcomes = memoryOutcomes();
    const results = await runner(cfg, outcomes).runBatching(
      jobs(10, [reaction]),
      new AbortController().signal,
    );
    expect(calls.map((c) => c.Entries!.map((e) => e.Detail))).toEqual([
      Array.from({ length: 10 }, (_, i) => `{"n":${i}}`),
      ['{"n":3}', '{"n":7}'],
      ['{"n":7}'],
    ]);
    expect([...results.values()].flat().every((r) => r.status === 'succeeded')).toBe(true);
    expect(outcomes.items.get('eventbridge|uuid-7')).toMatchObject({
      status: 'succeeded',
      attempts: 3,
    });
    expect(outcomes.items.get('eventbridge|uuid-0')).toMatchObject({ attempts: 1 });
  });

  it('records an entry refused on every try as failed, with the error code', async () => {
    const { client } = recordedClient((detail) =>
      detail === '{"n":1}' ? 'InternalFailure' : undefined,
    );
    const outcomes = memoryOutcomes();
    await runner(cfg, outcomes).runBatching(
      jobs(3, [createEventBridgeReaction({ client })]),
      new AbortController().signal,
    );
    expect(outcomes.items.get('eventbridge|uuid-1')).toMatchObject({
      status: 'failed',
      attempts: 3,
    });
    expect(String(outcomes.items.get('eventbridge|uuid-1')!.error)).toMatch(/InternalFailure/);
    expect(outcomes.items.get('eventbridge|uuid-2')).toMatchObject({ status: 'succeeded' });
  });

  it('splits requests at 256 KB and refuses an entry over it alone', () => {
    const entry = (kb: number) => ({
      Source: 's',
      DetailType: 'SystemLog',
      Detail: 'x'.repeat(kb * 1024),
    });
    expect(requestGroups([entry(100), entry(100), entry(100), entry(1)])).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect(requestGroups([entry(300), entry(1)])).toEqual([[0], [1]]);
    expect(MAX_REQUEST_BYTES).toBe(262144);
  });

  it('refuses a source starting with aws.', async () => {
    const { client, calls } = recordedClient();
    const outcomes = memoryOutcomes();
    const awsSource = config({ EVENT_BUS_NAME: 'bus', EVENT_SOURCE: 'aws.partner/okta.com' });
    await runner(awsSource, outcomes).runBatching(
      jobs(1, [createEventBridgeReaction({ client })]),
      new AbortController().signal,
    );
    expect(calls).toHaveLength(0);
    expect(String(outcomes.items.get('eventbridge|uuid-0')!.error)).toMatch(
      /must not start with "aws\."/,
    );
  });
});

describe('the runner', () => {
  it('tries a failing reaction `tries` times with growing pauses, then records it failed', async () => {
    const pauses: number[] = [];
    let calls = 0;
    const flaky: Reaction = {
      name: 'flaky',
      eventTypes: ['*'],
      handle: async (_event, context) => {
        calls++;
        if (context.attempt < 3) throw new Error(`try ${context.attempt} failed`);
      },
    };
    const outcomes = memoryOutcomes();
    const cfg = config({ REACTION_TRIES: '2', REACTION_RETRY_BASE_MS: '100' });
    const run = new ReactionRunner({
      outcomes: outcomes as unknown as OutcomeStore,
      config: cfg,
      leaseMs: 60_000,
      quiet: true,
      random: () => 1,
      sleep: async (ms) => {
        pauses.push(ms);
      },
    });
    const [job] = jobs(1, [flaky]);
    expect((await run.runEach(job!, new AbortController().signal))[0]).toMatchObject({
      status: 'failed',
      attempts: 2,
      error: 'Error: try 2 failed',
    });
    // A later invocation (the stream's retry) continues the count, and the pauses.
    const again = new ReactionRunner({
      outcomes: outcomes as unknown as OutcomeStore,
      config: cfg,
      leaseMs: 60_000,
      quiet: true,
      random: () => 1,
      sleep: async (ms) => {
        pauses.push(ms);
      },
    });
    expect((await again.runEach(job!, new AbortController().signal))[0]).toMatchObject({
      status: 'succeeded',
      attempts: 3,
    });
    expect(calls).toBe(3);
    expect(pauses).toEqual([100, 200]);
    // Once succeeded, never again.
    expect((await again.runEach(job!, new AbortController().signal))[0]!.status).toBe('succeeded');
    const third = runner(cfg, outcomes);
    expect((await third.runEach(job!, new AbortController().signal))[0]!.status).toBe(
      'already succeeded',
    );
    expect(calls).toBe(3);
  });

  it('does not retry a configuration error within the invocation', async () => {
    let calls = 0;
    const misconfigured: Reaction = {
      name: 'misconfigured',
      eventTypes: ['*'],
      handle: async () => {
        calls++;
        throw new ConfigError('FORWARD_URL must be an absolute http(s) URL');
      },
    };
    const outcomes = memoryOutcomes();
    const [job] = jobs(1, [misconfigured]);
    const [result] = await runner(config(), outcomes).runEach(job!, new AbortController().signal);
    expect(result).toMatchObject({ status: 'failed', attempts: 1 });
    expect(calls).toBe(1);
  });

  it('pauses 250 ms, then doubles, up to 10 s', () => {
    const pauses = [1, 2, 3, 4, 10, 20].map((a) => retryPauseMs(a, 250, () => 1));
    expect(pauses).toEqual([0, 250, 500, 1000, 10_000, 10_000]);
    expect(retryPauseMs(2, 250, () => 0)).toBe(125); // jittered down to half
  });
});
