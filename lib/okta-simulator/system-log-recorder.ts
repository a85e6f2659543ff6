/**
 * `send --org URL`: what Okta writes to its System Log while it delivers a hook. Every event
 * goes to the log (that is where hooks come from); a delivery Okta gives up on (`--drop`, or no
 * 2xx after its one retry) adds an `event_hook.delivery` failure event and is never delivered.
 * The events also reach the org's own event hooks, as every event that happens in an org does.
 */
import { EVENT_HOOK_ID, ORG_DOMAIN, timeUuid } from './events';

/** Events per request to the fake org's recorder. */
const RECORD_BATCH = 1000;

/** What the org's own hooks delivered of recorded events (send --org). */
/** The fake org's answer to an emit: how its hooks delivered the events (here, not in fake-org.ts, which imports this file). */
export interface EmitResult {
  events: number;
  hooks: Array<{ hookId: string; deliveries: number; accepted: number; failed: number }>;
}

export type HookDeliveries = EmitResult['hooks'];

/**
 * Records event texts (exactly as they are delivered) in the fake org's System Log. With
 * `deliver`, the org then delivers them to its ACTIVE, VERIFIED event hooks as emit does, except
 * a hook whose endpoint is `exceptUri` (send has delivered there itself, as that hook).
 */
export async function recordInSystemLog(
  orgUrl: string,
  eventTexts: readonly string[],
  deliver?: { perRequest: number; exceptUri?: string },
): Promise<HookDeliveries> {
  const totals = new Map<string, HookDeliveries[number]>();
  for (let i = 0; i < eventTexts.length; i += RECORD_BATCH) {
    const body = `[${eventTexts.slice(i, i + RECORD_BATCH).join(',')}]`;
    const url = new URL('/_simulator/events', orgUrl);
    if (deliver) {
      url.searchParams.set('deliver', 'true');
      url.searchParams.set('perRequest', String(deliver.perRequest));
      if (deliver.exceptUri) url.searchParams.set('except', deliver.exceptUri);
    }
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body,
      });
    } catch (error) {
      const cause =
        (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new Error(
        `cannot reach the fake org at ${orgUrl} (${cause}): is \`npm run okta -- serve\` running?`,
      );
    }
    if (response.status !== (deliver ? 200 : 204)) {
      throw new Error(
        `${orgUrl} did not record the events (status ${response.status}): is it the simulator's fake org (npm run okta -- serve)?`,
      );
    }
    if (!deliver) continue;
    for (const hook of (JSON.parse(await response.text()) as EmitResult).hooks) {
      const total = totals.get(hook.hookId);
      if (total === undefined) totals.set(hook.hookId, { ...hook });
      else {
        total.deliveries += hook.deliveries;
        total.accepted += hook.accepted;
        total.failed += hook.failed;
      }
    }
  }
  return [...totals.values()];
}

/** The System Log event of a delivery Okta could not make. */
export function hookDeliveryFailureEvent(
  deliveryEventId: string,
  reason: string,
  published = new Date(),
  hook: { id: string; name: string; orgUrl: string } = {
    id: EVENT_HOOK_ID,
    name: 'Event hook',
    orgUrl: `https://${ORG_DOMAIN}`,
  },
): Record<string, unknown> {
  const eventHook = {
    id: hook.id,
    type: 'EventHook',
    alternateId: 'unknown',
    displayName: hook.name,
    detailEntry: null,
  };
  return {
    actor: eventHook,
    client: null,
    device: null,
    authenticationContext: null,
    displayMessage: 'Event hook delivery failed',
    eventType: 'event_hook.delivery',
    outcome: { result: 'FAILURE', reason },
    published: published.toISOString(),
    securityContext: null,
    severity: 'WARN',
    debugContext: {
      debugData: {
        eventHookId: hook.id,
        deliveryEventId,
        requestUri: `${hook.orgUrl}/api/v1/eventHooks/${hook.id}`,
      },
    },
    legacyEventType: 'event_hook.delivery',
    transaction: { type: 'JOB', id: deliveryEventId, detail: {} },
    uuid: timeUuid(published),
    version: '0',
    request: { ipChain: [] },
    target: [eventHook],
    insertionTimestamp: null,
  };
}
