/**
 * The simulator's generators and command line, in-process: event shapes against Okta's own
 * samples and this service's parser, the send plan, Hookdeck signing, usage errors, --dry-run.
 */
import { authenticate } from '../../lib/http/auth';
import { parseDelivery } from '../../lib/okta/okta-contract';
import { runOktaCli } from '../../lib/okta-simulator/cli';
import { deliveryRequest } from '../../lib/okta-simulator/deliver';
import {
  ADMIN,
  EVENT_TYPES,
  oktaEnvelope,
  oktaEvent,
  oktaEvents,
  previewEnvelope,
  userFromLogin,
} from '../../lib/okta-simulator/events';
import { planSend } from '../../lib/okta-simulator/send';
import { sampleDeactivateEvent, sampleDelivery } from '../helpers/okta';

const ID = {
  user: /^00u[0-9A-Za-z]{17}$/,
  group: /^00g[0-9A-Za-z]{17}$/,
  app: /^0oa[0-9A-Za-z]{17}$/,
};

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runOktaCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

describe('generated events', () => {
  it.each(EVENT_TYPES)(
    '%s has every field of Okta samples and passes the service parser',
    (type) => {
      const event = oktaEvent(type);
      const sampleFields = new Set([
        ...Object.keys(sampleDeactivateEvent()),
        ...Object.keys(sampleDelivery().data.events[0]!),
      ]);
      expect(Object.keys(event).sort()).toEqual([...sampleFields].sort());
      expect(event.eventType).toBe(type);
      expect(event.outcome).toEqual({ result: 'SUCCESS', reason: null });
      expect(event.actor).toMatchObject({ type: 'User', id: expect.stringMatching(ID.user) });
      const targets = event.target as Array<{ id: string; type: string }>;
      expect(targets.length).toBeGreaterThan(0);
      for (const target of targets) {
        if (target.type === 'User') expect(target.id).toMatch(ID.user);
        if (target.type === 'UserGroup') expect(target.id).toMatch(ID.group);
        if (target.type === 'AppInstance') expect(target.id).toMatch(ID.app);
      }
      const parsed = parseDelivery(Buffer.from(JSON.stringify(oktaEnvelope([event]))));
      expect(parsed.events.map((e) => e.event)).toEqual([event]);
    },
  );

  it('keeps the cast consistent: one login, one id, everywhere', () => {
    const events = oktaEvents({ types: EVENT_TYPES, count: 200 });
    const idsByLogin = new Map<string, Set<string>>();
    for (const event of events) {
      const people = [event.actor, ...(event.target as unknown[])] as Array<{
        type: string;
        id: string;
        alternateId: string;
      }>;
      for (const p of people.filter((p) => p.type === 'User')) {
        idsByLogin.set(p.alternateId, (idsByLogin.get(p.alternateId) ?? new Set()).add(p.id));
      }
    }
    expect(idsByLogin.size).toBeGreaterThan(2);
    for (const ids of idsByLogin.values()) expect(ids.size).toBe(1);
    expect(idsByLogin.get(ADMIN.login)).toEqual(new Set([ADMIN.id]));
  });

  it('makes unique time-based uuids and plausible published times, types in turn', () => {
    const before = Date.now();
    const events = oktaEvents({
      types: ['user.session.start', 'user.lifecycle.create'],
      count: 1000,
    });
    expect(new Set(events.map((e) => e.uuid)).size).toBe(1000);
    for (const event of events)
      expect(event.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab]/);
    const times = events.map((e) => Date.parse(e.published));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times.at(-1)!).toBeGreaterThanOrEqual(before);
    expect(times.at(-1)! - times[0]!).toBeLessThan(1000 * 500);
    expect(events.slice(0, 3).map((e) => e.eventType)).toEqual([
      'user.session.start',
      'user.lifecycle.create',
      'user.session.start',
    ]);
  });

  it('creates exactly the user asked for', () => {
    const [event] = oktaEvents({
      types: ['user.lifecycle.create'],
      count: 1,
      user: 'jane.doe@hookdeckexample.com',
    });
    expect(event!.actor).toMatchObject({ alternateId: ADMIN.login });
    expect(event!.target).toEqual([
      {
        id: userFromLogin('jane.doe@hookdeckexample.com').id,
        type: 'User',
        alternateId: 'jane.doe@hookdeckexample.com',
        displayName: 'Jane Doe',
        detailEntry: null,
      },
    ]);
  });

  it('previews like the Admin Console: null actor and target, outcome "Success"', () => {
    const envelope = previewEnvelope(['user.lifecycle.create']);
    const [event] = envelope.data.events;
    expect(event).toMatchObject({
      eventType: 'user.lifecycle.create',
      actor: null,
      target: null,
      outcome: { result: 'Success' },
    });
    expect(parseDelivery(Buffer.from(JSON.stringify(envelope))).events).toHaveLength(1);
  });
});

describe('send plan', () => {
  it('groups events per request and redelivers a fraction with the same body and eventId, later', () => {
    const plan = planSend({
      types: ['user.lifecycle.create'],
      count: 100,
      perRequest: 7,
      duplicates: 0.2,
    });
    const originals = plan.filter((r) => r.redeliveryOf === undefined);
    const again = plan.filter((r) => r.redeliveryOf !== undefined);
    expect(originals).toHaveLength(15);
    expect(again).toHaveLength(3);
    expect(originals.map((r) => r.uuids.length)).toEqual([...Array(14).fill(7), 2]);
    expect(new Set(originals.flatMap((r) => r.uuids)).size).toBe(100);
    expect(new Set(originals.map((r) => r.eventId)).size).toBe(15);
    plan.forEach((request, position) => {
      if (request.redeliveryOf === undefined) return;
      const original = plan[request.redeliveryOf]!;
      expect(request.redeliveryOf).toBeLessThan(position);
      expect(request.body).toBe(original.body);
      expect(JSON.parse(request.body).eventId).toBe(original.eventId);
    });
  });
});

describe('Hookdeck-forwarded requests', () => {
  it('carry Okta headers and a signature the service accepts, and only with the right secret', () => {
    const body = JSON.stringify(oktaEnvelope([oktaEvent('user.session.start')]));
    const spec = deliveryRequest('http://localhost/x', body, {
      secret: 'Basic abc',
      viaHookdeck: true,
      signingSecret: 'whsec_1',
    });
    const headers = Object.fromEntries(
      Object.entries(spec.headers).map(([k, v]) => [k.toLowerCase(), v]),
    );
    expect(Object.keys(headers)).toEqual(
      expect.arrayContaining([
        'content-type',
        'accept',
        'user-agent',
        'x-okta-request-id',
        'authorization',
        'x-hookdeck-eventid',
        'x-hookdeck-requestid',
        'x-hookdeck-source-name',
        'x-hookdeck-attempt-count',
        'x-hookdeck-verified',
        'x-hookdeck-original-ip',
        'idempotency-key',
        'x-hookdeck-signature',
      ]),
    );
    const config = (signing: string) => ({
      oktaAuthHeader: 'authorization',
      oktaAuthSecrets: ['Basic abc'],
      hookdeckSigningSecrets: [signing],
    });
    expect(authenticate(headers, Buffer.from(body), config('whsec_1'))).toBe('hookdeck');
    expect(() => authenticate(headers, Buffer.from(body), config('whsec_2'))).toThrow(
      /x-hookdeck-signature/,
    );
  });
});

describe('npm run okta', () => {
  it.each([
    [['bogus'], 'okta: unknown command "bogus"'],
    [[], 'okta: a command is required'],
    [['verify'], 'okta: --url is required'],
    [
      ['verify', '--url', 'localhost:1337'],
      'okta: --url must be an http or https URL, got "localhost:1337"',
    ],
    [['verify', '--url', 'http://x', '--type', 'all'], 'okta: unknown option --type for verify'],
    [
      ['send', '--url', 'http://x', '--type', 'user.nope'],
      'okta: unknown event type "user.nope" in --type',
    ],
    [
      ['send', '--url', 'http://x', '--type', 'all', '--count', '0'],
      'okta: --count must be a whole number from 1 to 1000000, got "0"',
    ],
    [['send', '--url', 'http://x', '--type', 'all', '--count'], 'okta: --count needs a value'],
    [
      ['send', '--url', 'http://x', '--type', 'all', '--duplicates', '1.5'],
      'okta: --duplicates must be a fraction from 0 to 1, got "1.5"',
    ],
    [
      ['send', '--url', 'http://x', '--type', 'all', '--via-hookdeck'],
      'okta: --via-hookdeck needs --signing-secret',
    ],
    [
      ['send', '--url', 'http://x', '--type', 'all', '--user', 'jane'],
      'okta: --user must be a login',
    ],
    [
      ['preview', '--url', 'http://x', '--type', 'all', 'extra'],
      'okta: unexpected argument "extra" for preview',
    ],
    [
      ['send', '--url', 'http://x', '--type', 'all', '--drop', '0.2'],
      'okta: --drop needs --org: dropped deliveries must still be in a System Log',
    ],
    [
      ['send', '--url', 'http://x', '--type', 'all', '--org', 'http://o', '--drop', '2'],
      'okta: --drop must be a fraction from 0 to 1, got "2"',
    ],
    [['serve', '--link-style', 'csv'], 'okta: --link-style must be "lines" or "joined", got "csv"'],
    [['serve', '--port', '70000'], 'okta: --port must be a whole number from 1 to 65535'],
    [
      ['serve', '--hook-types', 'user.nope'],
      'okta: unknown event type "user.nope" in --hook-types',
    ],
    [
      ['serve', '--redirect-uri', 'localhost:1338/ui/callback'],
      'okta: --redirect-uri must be an http or https URL, got "localhost:1338/ui/callback"',
    ],
    [['serve', '--auto-login', ''], 'okta: --auto-login must not be empty'],
  ])('%j is a usage error: one clear line, the usage, exit code 2', async (argv, message) => {
    const result = await cli(...argv);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toContain(message);
    expect(result.stderr).toContain('Usage: npm run okta -- <command> [options]');
    expect(result.stdout).toBe('');
  });

  it('--dry-run prints the exact verification request, secret included', async () => {
    const result = await cli(
      'verify',
      '--url',
      'http://localhost:9/hook',
      '--secret',
      'Basic s3cr3t',
      '--auth-header',
      'X-Auth',
      '--dry-run',
    );
    expect(result.code).toBe(0);
    const [requestLine, ...headers] = result.stdout.split('\n');
    expect(requestLine).toBe('GET http://localhost:9/hook');
    expect(headers).toEqual([
      expect.stringMatching(/^X-Okta-Verification-Challenge: [\w-]{20,}$/),
      'Accept: application/json',
      'User-Agent: Okta-Integrations',
      expect.stringMatching(/^X-Okta-Request-Id: [\w-]+$/),
      'X-Auth: Basic s3cr3t',
    ]);
  });

  it('--dry-run prints every delivery of a send, redeliveries included, and sends nothing', async () => {
    const result = await cli(
      'send',
      '--url',
      'http://127.0.0.1:9/hook',
      '--type',
      'all',
      '--count',
      '4',
      '--per-request',
      '2',
      '--duplicates',
      '0.5',
      '--secret',
      's',
      '--dry-run',
    );
    expect(result.code).toBe(0);
    const requests = result.stdout.split(/\n\n(?=POST )/);
    expect(requests).toHaveLength(3);
    const bodies = requests.map((r) => JSON.parse(r.slice(r.indexOf('\n\n') + 2)));
    expect(
      requests.every((r) =>
        r.startsWith('POST http://127.0.0.1:9/hook\nContent-Type: application/json\n'),
      ),
    ).toBe(true);
    expect(new Set(bodies.map((b) => b.eventId)).size).toBe(2);
    expect(
      new Set(bodies.flatMap((b) => b.data.events.map((e: { uuid: string }) => e.uuid))).size,
    ).toBe(4);
  });
});
