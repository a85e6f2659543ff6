/**
 * `npm run okta -- emit --org URL`: events happen in the fake org (`serve`), which writes them to
 * its System Log and delivers them to its event hooks as Okta does (event-hooks-api.ts).
 */
import type { EmitRequest, EmitResult } from './fake-org';

export async function emitEvents(
  orgUrl: string,
  request: EmitRequest,
  io: { out(line: string): void },
): Promise<number> {
  let response: Response;
  try {
    response = await fetch(new URL('/_simulator/emit', orgUrl), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(request),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new Error(
      `cannot reach the fake org at ${orgUrl} (${cause}): is \`npm run okta -- serve\` running?`,
    );
  }
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(
      `${orgUrl} did not emit the events (status ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}): is it the simulator's fake org (npm run okta -- serve)?`,
    );
  }
  const result = JSON.parse(text) as EmitResult;
  io.out(`emitted ${result.events} events in ${orgUrl} (in its System Log)`);
  if (result.hooks.length === 0) {
    io.out(
      'no ACTIVE, VERIFIED event hook subscribes to them: nothing delivered (npm run okta -- hook apply)',
    );
  }
  describeHookDeliveries(result.hooks, io);
  return result.hooks.some((h) => h.failed > 0) ? 1 : 0;
}

/** One line per hook the fake org delivered to (emit, send --org). */
export function describeHookDeliveries(
  hooks: EmitResult['hooks'],
  io: { out(line: string): void },
): void {
  for (const hook of hooks) {
    io.out(
      `hook ${hook.hookId}: ${hook.deliveries} deliveries, accepted ${hook.accepted}, failed ${hook.failed}` +
        (hook.failed > 0 ? ' (each in the System Log as event_hook.delivery)' : ''),
    );
  }
}
