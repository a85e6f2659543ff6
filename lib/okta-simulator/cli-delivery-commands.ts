/**
 * The okta CLI's runners for the commands that play Okta (and Hookdeck) against an endpoint:
 * verify, send, preview, replay, and receive (the forward reaction's receiving end).
 */
import {
  type Attempt,
  type DeliverOptions,
  type DeliveryResult,
  deliver,
  deliveryRequest,
  describeAttempt,
  formatRequest,
  newHookdeckEvent,
} from './deliver';
import { previewEnvelope } from './events';
import { localEventsSource } from '../cli/events-cli';
import { arrayElementTexts } from '../okta/json-text';
import { parseTime } from '../store/query-parameters';
import { ReadApiClient } from '../read-api/read-api-client';
import { replay } from './replay';
import { type PlannedRequest, planSend, runSend } from './send';
import {
  type HookDeliveries,
  hookDeliveryFailureEvent,
  recordInSystemLog,
} from './system-log-recorder';
import { verificationRequest, verifyEndpoint } from './verify';
import { checkReceiverSecret, receiverSummary, startWebhookReceiver } from './receive';
import { describeHookDeliveries } from './emit';
import {
  type CliOutput,
  type Values,
  UsageError,
  fraction,
  optionalString,
  parseTypes,
  requiredString,
  senderOptions,
  urlOf,
  wholeNumber,
} from './cli-arguments';

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

export async function verifyCommand(values: Values, io: CliOutput): Promise<number> {
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

export async function sendCommand(values: Values, io: CliOutput): Promise<number> {
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

export async function previewCommand(values: Values, io: CliOutput): Promise<number> {
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

export async function replayCommand(values: Values, io: CliOutput): Promise<number> {
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
