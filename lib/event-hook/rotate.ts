/**
 * `hook rotate-secret`: a new secret for the hook with no delivery refused (DESIGN.md §14):
 *
 *   1. the receiver accepts new and old (OKTA_AUTH_SECRET = "new,old");
 *   2. wait until the endpoint accepts the new one (a verification GET carrying it succeeds);
 *   3. Okta's hook gets the new secret (one update), 4. Okta verifies it at once;
 *   5. after a grace period (deliveries already under way with the old one), the old one is
 *      removed, and the endpoint is checked to refuse it.
 *
 * Locally the receiver's list is in `.env` (LOCAL_ENV_FILE), which npm start's endpoint re-reads
 * when it changes. The state is the list itself: two values mean a rotation under way, so a
 * re-run after an interruption continues with the same new secret from step 2. Every step is
 * idempotent. No secret is printed.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { verifyEndpoint } from '../okta-simulator/verify';
import { sleep } from '../sleep';
import { PROJECT_ROOT } from '../store/table-definition';
import { findHook, verifyHook } from './apply';
import { HookSettingsError, checkLimits, hookBody } from './hook-definition';
import { type HookTarget, authHeaderName, stageEventTypes } from './hook-settings';

/** How long the endpoint gets to pick up a change of its secrets. */
const PICK_UP_TIMEOUT_MS = 60_000;
const POLL_MS = 250;
/** Deliveries Okta started with the old secret finish (one retry after 3 s) within this. */
export const DEFAULT_GRACE_MS = 10_000;

export function localEnvFile(env: NodeJS.ProcessEnv): string {
  return env.LOCAL_ENV_FILE?.trim() || join(PROJECT_ROOT, '.env');
}

function secretsIn(file: string): string[] {
  if (!existsSync(file)) return [];
  return (parseEnv(readFileSync(file, 'utf8')).OKTA_AUTH_SECRET ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Sets OKTA_AUTH_SECRET in the file, keeping every other line; atomically (rename). */
export function writeSecrets(file: string, secrets: readonly string[]): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const line = `OKTA_AUTH_SECRET=${secrets.join(',')}`;
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const at = lines.findIndex((l) => /^\s*(export\s+)?OKTA_AUTH_SECRET\s*=/.test(l));
  if (at >= 0) lines[at] = line;
  else lines.push(line);
  const temporary = `${file}.rotating`;
  writeFileSync(temporary, `${lines.join('\n')}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}

/** 256 random bits, header-safe (never printed). */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Polls the endpoint with a verification GET until it `accepts` (true) or refuses (false) `secret`. */
async function waitForEndpoint(
  url: string,
  authHeader: string,
  secret: string,
  accepts: boolean,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    const result = await verifyEndpoint(url, { secret, authHeader });
    const refused = result.attempts.some((a) => a.status === 401 || a.status === 403);
    if (accepts ? result.verified : refused) return Date.now() - started;
    if (Date.now() - started > PICK_UP_TIMEOUT_MS) {
      throw new HookSettingsError(
        `the endpoint ${url} still ${accepts ? 'refuses the new' : 'accepts the old'} secret after ${PICK_UP_TIMEOUT_MS / 1000} s${
          accepts ? ` (${result.reason ?? 'no answer'})` : ''
        }: is npm start running (it re-reads .env), and is it the endpoint Okta calls?`,
      );
    }
    await sleep(POLL_MS);
  }
}

export async function rotateSecret(
  target: HookTarget,
  url: string,
  env: NodeJS.ProcessEnv,
  out: (line: string) => void,
  graceMs = DEFAULT_GRACE_MS,
): Promise<void> {
  if (target.params.secretsPath) {
    throw new HookSettingsError(
      `rotate-secret --stage ${target.stage} is not built yet: rotate the stage's SSM parameter by hand as docs/event-hook-as-code.md describes`,
    );
  }
  const types = stageEventTypes(target);
  checkLimits(types);
  const authHeader = authHeaderName(env);
  const file = localEnvFile(env);
  const hook = await findHook(target.client, target.name, target.hookId);
  if (hook === undefined) {
    throw new HookSettingsError(
      `no event hook named ${target.name} in ${target.orgUrl}: run hook apply first`,
    );
  }

  let secrets = secretsIn(file);
  if (secrets.length === 0) {
    throw new HookSettingsError(
      `${file} has no OKTA_AUTH_SECRET: nothing to rotate (hook apply sets up the first one)`,
    );
  }
  if (secrets.length === 1) {
    secrets = [newSecret(), secrets[0]!];
    writeSecrets(file, secrets);
    out(`1/5 new secret generated; ${file} now accepts new and old (OKTA_AUTH_SECRET holds both)`);
  } else {
    out(
      `1/5 rotation under way (OKTA_AUTH_SECRET in ${file} holds ${secrets.length} values): continuing with the first`,
    );
  }
  const [fresh, ...old] = secrets as [string, ...string[]];

  const pickUp = await waitForEndpoint(url, authHeader, fresh, true);
  out(`2/5 the endpoint accepts the new secret (after ${pickUp} ms)`);

  const updated = await target.client.update(
    hook.id,
    hookBody({ name: hook.name, uri: url, authHeader, secret: fresh, types }),
  );
  out(`3/5 Okta's hook ${hook.id} sends the new secret from now on`);
  if (updated.verificationStatus !== 'VERIFIED') await verifyHook(target.client, updated);
  out(`4/5 Okta verified ${url} with the new secret`);

  if (old.length > 0) {
    await sleep(graceMs);
    writeSecrets(file, [fresh]);
    const dropped = await waitForEndpoint(url, authHeader, old[0]!, false);
    out(
      `5/5 after a ${graceMs / 1000} s grace the old secret is removed; the endpoint refuses it (after ${dropped} ms)`,
    );
  } else {
    out('5/5 nothing old to remove');
  }
}
