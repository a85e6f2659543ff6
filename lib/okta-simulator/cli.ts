/**
 * `npm run okta -- <command>`: play Okta (and Hookdeck) against an endpoint without an Okta org.
 * Parses arguments, runs a command, prints; returns the exit code (2 for usage errors).
 * Secrets are printed only by --dry-run, which exists to show the exact request.
 */
import { parseArgs } from 'node:util';
import {
  type Attempt,
  type DeliverOptions,
  type DeliveryResult,
  DEFAULT_AUTH_HEADER,
  deliver,
  deliveryRequest,
  describeAttempt,
  formatRequest,
  newHookdeckEvent,
} from './deliver';
import { EVENT_HOOK_ID, EVENT_TYPES, type EventType, isEventType, previewEnvelope } from './events';
import { localEventsSource } from '../cli/events-cli';
import { arrayElementTexts } from '../okta/json-text';
import { parseTime } from '../store/query-parameters';
import { ReadApiClient } from '../read-api/read-api-client';
import { replay } from './replay';
import { type PlannedRequest, planSend, runSend } from './send';
import { FAKE_ORG_DEFAULT_PORT } from './fake-org';
import { serveFakeOrg } from './serve';
import {
  type HookDeliveries,
  hookDeliveryFailureEvent,
  recordInSystemLog,
} from './system-log-recorder';
import { verificationRequest, verifyEndpoint } from './verify';
import { checkReceiverSecret, receiverSummary, startWebhookReceiver } from './receive';
import { HOOK_USAGE, runHookCli } from '../event-hook/hook-cli';
import { describeHookDeliveries, emitEvents } from './emit';

export const USAGE = `Usage: npm run okta -- <command> [options]

Commands:
  verify   --url U [--secret S] [--auth-header H]
           Okta's one-time verification GET (3 s timeout, one retry). Prints VERIFIED, or why
           Okta would refuse the endpoint; exit code 0 only when verified.
  send     --url U --type T [--count N] [--per-request K] [--duplicates R] [--user LOGIN]
           [--concurrency C] [--secret S] [--auth-header H] [--via-hookdeck --signing-secret S2]
           [--org URL [--drop D]]
           N realistic events (default 1) of type T (a comma list, or "all"), K per delivery
           (default 1); a fraction R (0-1, default 0) of deliveries sent again as Okta redelivers
           them. Delivered like Okta: 3 s timeout, one retry after a timeout or 5xx, none after a
           4xx. With --org, every event is also recorded in that fake org's System Log and
           delivered to its ACTIVE, VERIFIED event hooks as emit does (except a hook whose
           endpoint is U: send delivers there itself), and a fraction D (0-1) of deliveries is
           dropped: Okta gave up on them, so they are in the System Log (with an
           event_hook.delivery failure) but never delivered. Exit code 1 if any event of a
           delivery that was not dropped was never accepted, or a hook delivery failed.
  preview  --url U --type T [--secret S] [--auth-header H]
           The Admin Console's Preview: sample data, actor and target null, outcome "Success".
  replay   --to U [--type T] [--user U] [--since S] [--until S] [--per-request K]
           [--from-url U --token T] [--secret S] [--auth-header H] [--via-hookdeck --signing-secret S2]
           Re-delivers stored events (from the local table, or a deployed stage's read API with
           --from-url) to endpoint U in Okta envelopes of K events (default 50), exactly as
           stored, with Okta's retry rules. Progress on stderr; exit code 1 if any was not accepted.
  serve    [--port P] [--token T] [--client-id C --public-key FILE] [--key-id K] [--hook-id H]
           [--hook-types T] [--rate-limit N] [--link-style lines|joined]
           [--auto-login LOGIN] [--users FILE] [--redirect-uri URI ...]
           A fake Okta org for the reconciler (npm run reconcile): the System Log API with
           Okta's paging and rate limits, the OAuth token endpoint (private_key_jwt) and the
           Event Hooks API, and a custom authorization server at /oauth2/default that signs the
           fake users in (OpenID Connect). Defaults come from OKTA_API_TOKEN, OKTA_CLIENT_ID and
           the public half of OKTA_PRIVATE_KEY; runs until Ctrl-C, one line per request.
  emit     --org URL --type T [--count N] [--per-request K] [--rate R]
           N events (default 1) of type T (a comma list, or "all") happen in the fake org: in its
           System Log, and delivered to each of its ACTIVE, VERIFIED event hooks subscribed to
           them, K per delivery (default 1), at R events a second (default: as fast as answered),
           with Okta's rules; each delivery Okta gives up on is logged as event_hook.delivery.
           Exit code 1 if any delivery failed.
  hook     apply|status|rotate-secret|deactivate|delete: Okta's event hook as code (below)
  receive  --port P --secret S [--fail F] [--host H]
           A Standard Webhooks receiver for the forward reaction (FORWARD_URL=http://127.0.0.1:P/,
           FORWARD_SECRET=S, a whsec_ secret): verifies every request with the standardwebhooks
           package and prints each event once; --fail F answers 503 to a fraction F (0-1) of
           first attempts. Runs until Ctrl-C, then prints a summary; exit code 1 if any request
           was not verified.

Options:
  --url U              the event hook endpoint, e.g. http://localhost:1337/okta-webhooks-endpoint
  --secret S           the hook's Authentication secret (sent in the auth header)
  --auth-header H      the hook's Authentication field (default ${DEFAULT_AUTH_HEADER})
  --user LOGIN         the user the events are about, e.g. jane.doe@hookdeckexample.com
  --concurrency C      deliveries in flight at once (default 1)
  --via-hookdeck       deliver as Hookdeck forwards Okta's request (x-hookdeck-* headers, signed)
  --signing-secret S2  Hookdeck signing secret for x-hookdeck-signature (with --via-hookdeck)
  --from-url U         replay: read events through this read API (or EVENTS_API_URL) instead of
                       the local table (DYNAMODB_ENDPOINT, default http://127.0.0.1:8000)
  --token T            replay: the read API's bearer token (or EVENTS_API_TOKEN)
  --since S, --until S replay: time range, ISO 8601 (since inclusive, until exclusive)
  --org URL            send: also record the events in this fake org's System Log (npm run okta -- serve)
  --drop D             send: fraction 0-1 of deliveries Okta gives up on (needs --org)
  --port P             serve: port (default 7070)
  --token T            serve: the SSWS API token it accepts (default OKTA_API_TOKEN, else made up)
  --client-id C        serve: a service app's client id (default OKTA_CLIENT_ID)
  --public-key FILE    serve: that app's public key, PEM or JWK (default: from OKTA_PRIVATE_KEY)
  --hook-id H          serve: id of its event hook (default who7hphp39JoHLni81d7, the one send uses)
  --hook-types T       serve: the hook's event types, a comma list or "all" (default all)
  --rate-limit N       serve: System Log requests a minute before 429 (default 60)
  --link-style S       serve: Link headers as separate "lines" (default) or one "joined" line
  --auto-login LOGIN   serve: the authorization server signs in as this user without a login form
  --users FILE         serve: the users who can sign in, JSON [{"login", "name", "groups": [...]}]
  --redirect-uri URI   serve: another redirect URI of the event browser app (repeatable); its
                       origin + /ui becomes a post-logout redirect URI
  --dry-run            print the exact requests (method, URL, headers, body) instead of sending
  -h, --help           this text

Event types: ${EVENT_TYPES.join(', ')}

${HOOK_USAGE}`;

export class UsageError extends Error {}

export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
}

const consoleOutput: CliOutput = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

type OptionSpec = { type: 'string' | 'boolean'; short?: string; multiple?: boolean };
const COMMON: Record<string, OptionSpec> = {
  url: { type: 'string' },
  secret: { type: 'string' },
  'auth-header': { type: 'string' },
  'dry-run': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};
const COMMANDS: Record<string, Record<string, OptionSpec>> = {
  receive: {
    port: { type: 'string' },
    secret: { type: 'string' },
    fail: { type: 'string' },
    host: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  verify: COMMON,
  preview: { ...COMMON, type: { type: 'string' } },
  send: {
    ...COMMON,
    type: { type: 'string' },
    count: { type: 'string' },
    'per-request': { type: 'string' },
    duplicates: { type: 'string' },
    concurrency: { type: 'string' },
    user: { type: 'string' },
    'via-hookdeck': { type: 'boolean' },
    'signing-secret': { type: 'string' },
    org: { type: 'string' },
    drop: { type: 'string' },
  },
  serve: {
    port: { type: 'string' },
    token: { type: 'string' },
    'client-id': { type: 'string' },
    'public-key': { type: 'string' },
    'key-id': { type: 'string' },
    'hook-id': { type: 'string' },
    'hook-types': { type: 'string' },
    'rate-limit': { type: 'string' },
    'link-style': { type: 'string' },
    'auto-login': { type: 'string' },
    users: { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h' },
  },
  emit: {
    org: { type: 'string' },
    type: { type: 'string' },
    count: { type: 'string' },
    'per-request': { type: 'string' },
    rate: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  replay: {
    to: { type: 'string' },
    secret: { type: 'string' },
    'auth-header': { type: 'string' },
    'dry-run': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
    type: { type: 'string' },
    user: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    'per-request': { type: 'string' },
    'from-url': { type: 'string' },
    token: { type: 'string' },
    'via-hookdeck': { type: 'boolean' },
    'signing-secret': { type: 'string' },
  },
};

type Values = Record<string, string | boolean | string[] | undefined>;

/** Strict parsing with one clear message per mistake (parseArgs' own messages are long). */
function parseCommandArgs(command: string, args: string[]): Values {
  const options = COMMANDS[command]!;
  const { values, tokens } = parseArgs({
    args,
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind === 'positional') {
      throw new UsageError(`unexpected argument "${token.value}" for ${command}`);
    }
    if (token.kind !== 'option') continue;
    const spec = options[token.name];
    if (spec === undefined) throw new UsageError(`unknown option ${token.rawName} for ${command}`);
    if (
      spec.type === 'string' &&
      (token.value === undefined || (!token.inlineValue && token.value.startsWith('--')))
    ) {
      throw new UsageError(`${token.rawName} needs a value`);
    }
    if (spec.type === 'boolean' && token.value !== undefined) {
      throw new UsageError(`${token.rawName} takes no value`);
    }
  }
  return values;
}

function requiredString(values: Values, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

function optionalString(values: Values, name: string): string | undefined {
  const value = values[name];
  if (value === '') throw new UsageError(`--${name} must not be empty`);
  return typeof value === 'string' ? value : undefined;
}

function urlOf(values: Values, name = 'url'): string {
  const raw = requiredString(values, name);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--${name} must be an absolute http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--${name} must be an http or https URL, got "${raw}"`);
  }
  return raw;
}

function wholeNumber(values: Values, name: string, fallback: number, max: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new UsageError(`--${name} must be a whole number from 1 to ${max}, got "${raw}"`);
  }
  return value;
}

function fraction(values: Values, name: string): number {
  const raw = values[name];
  if (raw === undefined) return 0;
  const value = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !(value >= 0 && value <= 1)) {
    throw new UsageError(`--${name} must be a fraction from 0 to 1, got "${raw}"`);
  }
  return value;
}

export function parseTypes(raw: string, option = '--type'): EventType[] {
  if (raw === 'all') return [...EVENT_TYPES];
  const types = raw.split(',').map((t) => t.trim());
  for (const type of types) {
    if (!isEventType(type)) {
      throw new UsageError(
        `unknown event type "${type}" in ${option}; use "all" or a comma list of: ${EVENT_TYPES.join(', ')}`,
      );
    }
  }
  return types as EventType[];
}

function senderOptions(values: Values) {
  return {
    secret: optionalString(values, 'secret'),
    authHeader: optionalString(values, 'auth-header') ?? DEFAULT_AUTH_HEADER,
  };
}

/** The refusal's own explanation (the service's `message`), else a short excerpt of the body. */
function answerDetail(attempt: Attempt | undefined): string {
  const body = attempt?.body?.trim();
  if (!body) return '';
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    if (typeof parsed.message === 'string') return `: ${parsed.message}`;
  } catch {
    // not JSON: show it as it came
  }
  return `: ${body.length > 120 ? `${body.slice(0, 120)}…` : body}`;
}

function describeResult(result: DeliveryResult): string {
  const statuses = result.attempts.map(describeAttempt).join(' → ');
  const detail = result.outcome === 'accepted' ? '' : answerDetail(result.attempts.at(-1));
  return `${statuses} ${result.outcome}${detail}`;
}

function describeRequest(request: PlannedRequest): string {
  const events =
    request.uuids.length === 1
      ? `1 event ${request.eventTypes.join(',')} uuid ${request.uuids[0]}`
      : `${request.uuids.length} events ${request.eventTypes.join(',')}`;
  return `${events}  eventId ${request.eventId}`;
}

async function verifyCommand(values: Values, io: CliOutput): Promise<number> {
  const url = urlOf(values);
  const options = senderOptions(values);
  if (values['dry-run']) {
    io.out(formatRequest(verificationRequest(url, options)));
    return 0;
  }
  const result = await verifyEndpoint(url, options);
  if (result.verified) {
    io.out('VERIFIED');
    return 0;
  }
  const retried =
    result.attempts.length > 1
      ? ` (Okta's one retry included: ${result.attempts.map(describeAttempt).join(', ')})`
      : '';
  io.out(`NOT VERIFIED: ${result.reason}${retried}`);
  return 1;
}

function deliverOptions(values: Values): DeliverOptions {
  const viaHookdeck = values['via-hookdeck'] === true;
  const signingSecret = optionalString(values, 'signing-secret');
  if (viaHookdeck && signingSecret === undefined) {
    throw new UsageError('--via-hookdeck needs --signing-secret (Hookdeck signs what it forwards)');
  }
  if (!viaHookdeck && signingSecret !== undefined) {
    throw new UsageError('--signing-secret is only used with --via-hookdeck');
  }
  return { ...senderOptions(values), viaHookdeck, signingSecret };
}

function printDryRun(url: string, bodies: string[], options: DeliverOptions, io: CliOutput): void {
  bodies.forEach((body, i) => {
    if (i > 0) io.out('');
    io.out(
      formatRequest(deliveryRequest(url, body, options, { event: newHookdeckEvent(), attempt: 1 })),
    );
  });
}

async function sendCommand(values: Values, io: CliOutput): Promise<number> {
  const url = urlOf(values);
  const types = parseTypes(requiredString(values, 'type'));
  const count = wholeNumber(values, 'count', 1, 1_000_000);
  const perRequest = wholeNumber(values, 'per-request', 1, 10_000);
  const duplicates = fraction(values, 'duplicates');
  const concurrency = wholeNumber(values, 'concurrency', 1, 100);
  const user = optionalString(values, 'user');
  if (user !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(user)) {
    throw new UsageError(
      `--user must be a login such as jane.doe@hookdeckexample.com, got "${user}"`,
    );
  }
  const options = deliverOptions(values);
  const org = optionalString(values, 'org');
  if (org !== undefined) urlOf(values, 'org');
  const drop = fraction(values, 'drop');
  if (drop > 0 && org === undefined) {
    throw new UsageError(
      '--drop needs --org: dropped deliveries must still be in a System Log for the reconciler to find',
    );
  }
  const plan = planSend({ types, count, perRequest, duplicates, user });
  if (values['dry-run']) {
    printDryRun(
      url,
      plan.map((r) => r.body),
      options,
      io,
    );
    return 0;
  }

  // Okta writes every event to its System Log, then delivers (or gives up on) each delivery.
  const dropped = new Set(dropChoice(plan, drop));
  let viaHooks: HookDeliveries = [];
  if (org !== undefined) {
    // The org's own hooks deliver them too, except the one send plays (the hook calling --url).
    viaHooks = await recordInSystemLog(
      org,
      plan.filter((r) => r.redeliveryOf === undefined).flatMap(eventTexts),
      { perRequest, exceptUri: url },
    );
    describeHookDeliveries(viaHooks, io);
  }
  const sent = plan.filter((r) => !dropped.has(r.eventId));
  if (dropped.size > 0) {
    const droppedEvents = plan
      .filter((r) => r.redeliveryOf === undefined && dropped.has(r.eventId))
      .reduce((n, r) => n + r.uuids.length, 0);
    io.out(
      `dropped ${dropped.size} of ${plan.filter((r) => r.redeliveryOf === undefined).length} deliveries (${droppedEvents} events): ` +
        `in the System Log of ${org} with an event_hook.delivery failure each, never delivered`,
    );
  }

  const width = String(sent.length).length;
  const { results, summary } = await runSend(url, sent, {
    ...options,
    concurrency,
    onResult: (index, result) => {
      const request = sent[index]!;
      const again =
        request.redeliveryOf === undefined ? '' : `  redelivery of #${request.redeliveryOf + 1}`;
      io.out(
        `[${String(index + 1).padStart(width)}/${sent.length}]  ${describeResult(result)}  ${describeRequest(request)}${again}  ${result.latencyMs} ms`,
      );
    },
  });
  if (org !== undefined) {
    // Okta logs each delivery it gave up on: dropped ones, and those that got no 2xx.
    const failures = new Map<string, string>();
    for (const eventId of dropped) failures.set(eventId, 'dropped by the simulator (--drop)');
    results.forEach((result, i) => {
      if (result.outcome !== 'accepted' && !failures.has(sent[i]!.eventId)) {
        failures.set(sent[i]!.eventId, `endpoint answered ${describeResult(result)}`);
      }
    });
    const failureEvents = [...failures].map(([eventId, reason]) =>
      JSON.stringify(hookDeliveryFailureEvent(eventId, reason)),
    );
    await recordInSystemLog(org, failureEvents);
  }
  io.out(
    `requests ${summary.requests} (${summary.redeliveries} redeliveries), events ${summary.events} (unique), ` +
      `accepted ${summary.accepted}, retried ${summary.retried}, refused ${summary.refused}, failed ${summary.failed}, ` +
      `latency p50 ${summary.p50Ms} ms p99 ${summary.p99Ms} ms`,
  );
  if (summary.lost > 0) {
    io.out(
      `LOST ${summary.lost} of ${summary.events} events: no delivery carrying them was accepted`,
    );
    return 1;
  }
  return viaHooks.some((h) => h.failed > 0) ? 1 : 0;
}

/** The event texts of a planned delivery, exactly as its body carries them. */
function eventTexts(request: PlannedRequest): string[] {
  return arrayElementTexts(request.body, ['data', 'events']) ?? [];
}

/** The eventIds of a fraction of the original deliveries; their redeliveries go too. */
function dropChoice(plan: readonly PlannedRequest[], drop: number): string[] {
  const originals = plan.filter((r) => r.redeliveryOf === undefined).map((r) => r.eventId);
  for (let i = originals.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [originals[i], originals[j]] = [originals[j]!, originals[i]!];
  }
  return originals.slice(0, Math.round(drop * originals.length));
}

async function previewCommand(values: Values, io: CliOutput): Promise<number> {
  const url = urlOf(values);
  const types = parseTypes(requiredString(values, 'type'));
  const options = senderOptions(values);
  const envelope = previewEnvelope(types);
  const body = JSON.stringify(envelope);
  if (values['dry-run']) {
    printDryRun(url, [body], options, io);
    return 0;
  }
  const result = await deliver(url, body, options);
  const uuids = envelope.data.events.map((e) => e.uuid).join(',');
  io.out(
    `preview  ${describeResult(result)}  uuid ${uuids}  eventId ${envelope.eventId}  ${result.latencyMs} ms`,
  );
  return result.outcome === 'accepted' ? 0 : 1;
}

async function replayCommand(values: Values, io: CliOutput): Promise<number> {
  const to = urlOf(values, 'to');
  const time = (name: 'since' | 'until') => {
    const raw = optionalString(values, name);
    try {
      return raw === undefined ? undefined : parseTime(raw, `--${name}`);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  };
  const range = { since: time('since'), until: time('until') };
  if (range.since && range.until && range.since >= range.until) {
    throw new UsageError('--since must be earlier than --until');
  }
  const fromUrl = optionalString(values, 'from-url') ?? process.env.EVENTS_API_URL;
  if (fromUrl !== undefined) urlOf({ 'from-url': fromUrl }, 'from-url');
  const options = senderOptions(values);
  const local = fromUrl === undefined ? localEventsSource(process.env) : undefined;
  const source =
    local?.source ??
    new ReadApiClient(
      fromUrl!,
      optionalString(values, 'token') ?? process.env.EVENTS_API_TOKEN,
      '--from-url (or EVENTS_API_URL)',
    );
  try {
    const summary = await replay(source, to, {
      ...range,
      type: optionalString(values, 'type'),
      user: optionalString(values, 'user'),
      perRequest: wholeNumber(values, 'per-request', 50, 1000),
      deliverOptions: options,
      dryRun: values['dry-run'] ? (body) => printDryRun(to, [body], options, io) : undefined,
      onDelivery: (result, events) =>
        io.err(`replay  ${describeResult(result)}  ${events} events  ${result.latencyMs} ms`),
    });
    io.out(
      `replayed ${summary.events} events in ${summary.deliveries} deliveries${values['dry-run'] ? ' (dry run)' : ''}: ` +
        `accepted ${summary.accepted}, lost ${summary.lost}`,
    );
    return summary.lost > 0 ? 1 : 0;
  } finally {
    local?.close();
  }
}

async function serveCommand(values: Values, io: CliOutput): Promise<number> {
  const linkStyle = optionalString(values, 'link-style') ?? 'lines';
  if (linkStyle !== 'lines' && linkStyle !== 'joined') {
    throw new UsageError(`--link-style must be "lines" or "joined", got "${linkStyle}"`);
  }
  const clientId = optionalString(values, 'client-id');
  const publicKeyFile = optionalString(values, 'public-key');
  if (publicKeyFile !== undefined && clientId === undefined && !process.env.OKTA_CLIENT_ID) {
    throw new UsageError('--public-key needs --client-id (or OKTA_CLIENT_ID): whose key is it?');
  }
  return serveFakeOrg(
    {
      port: wholeNumber(values, 'port', FAKE_ORG_DEFAULT_PORT, 65535),
      token: optionalString(values, 'token'),
      clientId,
      publicKeyFile,
      keyId: optionalString(values, 'key-id'),
      hookId: optionalString(values, 'hook-id') ?? EVENT_HOOK_ID,
      hookTypes: parseTypes(optionalString(values, 'hook-types') ?? 'all', '--hook-types'),
      rateLimit: wholeNumber(values, 'rate-limit', 60, 1_000_000),
      linkStyle,
      autoLogin: optionalString(values, 'auto-login'),
      usersFile: optionalString(values, 'users'),
      redirectUris: ((values['redirect-uri'] ?? []) as string[]).map((uri) =>
        urlOf({ 'redirect-uri': uri }, 'redirect-uri'),
      ),
    },
    io,
  );
}

/** Runs until SIGINT or SIGTERM (or `until`, for tests), then prints the summary. */
export async function receiveCommand(
  values: Values,
  io: CliOutput,
  until: Promise<unknown> = new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  }),
): Promise<number> {
  const port = wholeNumber(values, 'port', 0, 65535);
  if (values.port === undefined) throw new UsageError('--port is required');
  const secret = requiredString(values, 'secret');
  try {
    checkReceiverSecret(secret);
  } catch {
    throw new UsageError('--secret must be a Standard Webhooks secret: whsec_ followed by base64');
  }
  const fail = fraction(values, 'fail');
  const receiver = await startWebhookReceiver({
    port,
    host: optionalString(values, 'host'),
    secret,
    fail,
    onLine: io.out,
  });
  io.err(
    `Receiving on ${receiver.url} (FORWARD_URL=${receiver.url}), verifying with standardwebhooks` +
      (fail > 0 ? `, failing ${Math.round(fail * 100)}% of first attempts` : '') +
      '. Ctrl-C stops.',
  );
  await until;
  await receiver.stop();
  io.err(receiverSummary(receiver.stats));
  return receiver.stats.rejected > 0 ? 1 : 0;
}

async function emitCommand(values: Values, io: CliOutput): Promise<number> {
  const org = urlOf(values, 'org');
  const types = parseTypes(requiredString(values, 'type'));
  const rate = values.rate === undefined ? undefined : Number(values.rate);
  if (rate !== undefined && !(rate > 0 && rate <= 1000)) {
    throw new UsageError(
      `--rate must be events a second, above 0 and at most 1000, got "${values.rate}"`,
    );
  }
  return emitEvents(
    org,
    {
      types,
      count: wholeNumber(values, 'count', 1, 1_000_000),
      perRequest: wholeNumber(values, 'per-request', 1, 10_000),
      ratePerSecond: rate,
    },
    io,
  );
}

const RUNNERS: Record<string, (values: Values, io: CliOutput) => Promise<number>> = {
  emit: emitCommand,
  receive: (values, io) => receiveCommand(values, io),
  verify: verifyCommand,
  send: sendCommand,
  preview: previewCommand,
  replay: replayCommand,
  serve: serveCommand,
};

/** Runs one command line; never throws for a usage error (prints it, returns 2). */
export async function runOktaCli(argv: string[], io: CliOutput = consoleOutput): Promise<number> {
  const [command, ...args] = argv;
  try {
    if (command === undefined) throw new UsageError('a command is required');
    if (command === '--help' || command === '-h' || command === 'help') {
      io.out(USAGE);
      return 0;
    }
    if (command === 'hook') return await runHookCli(args, io);
    const runner = RUNNERS[command];
    if (runner === undefined) throw new UsageError(`unknown command "${command}"`);
    const values = parseCommandArgs(command, args);
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    return await runner(values, io);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`okta: ${error.message}\n\n${USAGE}`);
    return 2;
  }
}
