/**
 * `hook apply`: makes Okta's event hook what this stage wants, with the fewest writes. Finds the
 * hook (by id, else by name), creates it or sends one update when something differs, then makes
 * sure it is ACTIVE and VERIFIED, verifying after every create or update. Nothing differing and
 * already verified: no write at all.
 */
import {
  type EventHooksClient,
  EventHooksApiError,
  type OktaEventHook,
} from '../okta/event-hooks-client';
import {
  type DesiredHook,
  HookSettingsError,
  MAX_ACTIVE_HOOKS,
  checkLimits,
  differences,
  hookBody,
} from './hook-definition';

/** Okta could not verify the endpoint: one line saying why, for the user to fix. */
export class HookVerificationError extends Error {
  override name = 'HookVerificationError';
}

/** The hook with this id, or the one with this name; undefined when there is none by name. */
export async function findHook(
  client: EventHooksClient,
  name: string,
  hookId: string | undefined,
): Promise<OktaEventHook | undefined> {
  if (hookId !== undefined) return client.get(hookId);
  const named = (await client.list()).filter((h) => h.name === name);
  if (named.length > 1) {
    throw new HookSettingsError(
      `Okta has ${named.length} event hooks named ${name} (${named.map((h) => h.id).join(', ')}): set OKTA_EVENT_HOOK_ID to the one to manage`,
    );
  }
  return named[0];
}

async function assertRoomForActiveHook(client: EventHooksClient): Promise<void> {
  const active = (await client.list()).filter((h) => h.status === 'ACTIVE').length;
  if (active >= MAX_ACTIVE_HOOKS) {
    throw new HookSettingsError(
      `the org already has ${active} active event hooks, Okta's limit is ${MAX_ACTIVE_HOOKS}: deactivate one first`,
    );
  }
}

/** Okta's 400 to lifecycle/verify, as one line naming the endpoint and Okta's reason. */
export async function verifyHook(
  client: EventHooksClient,
  hook: OktaEventHook,
): Promise<OktaEventHook> {
  try {
    return await client.lifecycle(hook.id, 'verify');
  } catch (error) {
    if (error instanceof EventHooksApiError && error.status === 400) {
      const reason = error.causes.join('; ') || error.message;
      throw new HookVerificationError(
        `Okta could not verify ${hook.channel.config.uri}: ${reason} (is the endpoint up, and does its OKTA_AUTH_SECRET match?)`,
      );
    }
    throw error;
  }
}

/** `report` hears what was done as it is done (created, updated …, activated, verified, unchanged). */
export async function applyHook(
  client: EventHooksClient,
  desired: DesiredHook,
  hookId: string | undefined,
  report: (line: string) => void,
): Promise<OktaEventHook> {
  checkLimits(desired.types);
  let done = 0;
  const actions = {
    push(line: string) {
      done++;
      report(line);
    },
  };
  let hook = await findHook(client, desired.name, hookId);
  // Okta resets verification only when the channel changes; a re-verify after every write proves
  // the endpoint still answers with the secret just sent (the issue asks for it after any update).
  let written = false;
  if (hook === undefined) {
    await assertRoomForActiveHook(client);
    hook = await client.create(hookBody(desired));
    written = true;
    actions.push(
      `created ${hook.id} (${hook.name}): ${desired.uri}, ${desired.types.length} event types`,
    );
  } else {
    const changes = differences(hook, desired);
    // Okta never shows the secret: an UNVERIFIED hook may hold a wrong one, so it is sent again.
    if (changes.length === 0 && hook.verificationStatus !== 'VERIFIED') {
      changes.push('secret sent again (the hook was UNVERIFIED)');
    }
    if (changes.length > 0) {
      hook = await client.update(hook.id, hookBody(desired));
      written = true;
      actions.push(`updated ${hook.id}: ${changes.join('; ')}`);
    }
  }
  if (hook.status !== 'ACTIVE') {
    await assertRoomForActiveHook(client);
    hook = await client.lifecycle(hook.id, 'activate');
    actions.push(`activated ${hook.id}`);
  }
  if (written || hook.verificationStatus !== 'VERIFIED') {
    hook = await verifyHook(client, hook);
    actions.push(`verified ${hook.id}: Okta reached ${hook.channel.config.uri}`);
  }
  if (done === 0) actions.push(`unchanged ${hook.id} (${hook.name}): ACTIVE, VERIFIED`);
  return hook;
}
