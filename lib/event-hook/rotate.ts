/**
 * `hook rotate-secret`: a new secret for the hook with no delivery refused (DESIGN.md §14):
 *
 *   1. the receiver accepts new and old (its secret list becomes "new,old");
 *   2. wait until it has picked that up: locally until the endpoint accepts the new one (a
 *      verification GET carrying it succeeds); a deployed stage's functions re-read SSM within
 *      their cache time, so that is waited out first, then the endpoint is checked the same way;
 *   3. Okta's hook gets the new secret (one update), 4. Okta verifies it at once;
 *   5. after a grace period (deliveries already under way with the old one), the old one is
 *      removed (locally the endpoint is then checked to refuse it).
 *
 * The receiver's list is locally in `.env` (LOCAL_ENV_FILE), which npm start's endpoint re-reads
 * when it changes, and for a stage its SSM parameter `<secretsPath>/okta-auth-secret`. The state
 * is the list itself: two values mean a rotation under way, so a re-run after an interruption
 * continues with the same new secret from step 2. Every step is idempotent. No secret is printed.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { DEFAULT_SECRETS_CACHE_SECONDS, awsCredentialsFromEnv, loadConfig } from '../config';
import { verifyEndpoint } from '../okta-simulator/verify';
import {
  SSM_TIMEOUT_MS as RECEIVER_SSM_TIMEOUT_MS,
  getParameters,
  putSecureParameter,
  secretParameterName,
} from '../secrets';
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

function commaList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function secretsIn(file: string): string[] {
  if (!existsSync(file)) return [];
  return commaList(parseEnv(readFileSync(file, 'utf8')).OKTA_AUTH_SECRET);
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
        }: is the receiver reading the list rotate-secret writes (npm start re-reads .env, a stage its SSM parameter), and is it the endpoint Okta calls?`,
      );
    }
    await sleep(POLL_MS);
  }
}

/** The receiver's accepted secrets: where they live, and how long it takes to see a change. */
interface ReceiverSecrets {
  /** Where the list is, for the progress lines (never a value). */
  where: string;
  read(): Promise<string[]>;
  write(values: readonly string[]): Promise<void>;
  /** Locally the endpoint re-reads at once; a stage's functions within their cache time. */
  cacheMs: number;
}

function localSecrets(env: NodeJS.ProcessEnv): ReceiverSecrets {
  const file = localEnvFile(env);
  return {
    where: `OKTA_AUTH_SECRET in ${file}`,
    read: () => Promise.resolve(secretsIn(file)),
    write: (values) => Promise.resolve(writeSecrets(file, values)),
    cacheMs: 0,
  };
}

/** A laptop's SSM call is not on Okta's clock. */
const SSM_TIMEOUT_MS = 10_000;

/**
 * The stage's SSM parameter, with the operator's AWS credentials from the environment.
 * serverless.yml gives the functions no SECRETS_CACHE_SECONDS, so they cache for the default.
 */
function stageSecrets(target: HookTarget, env: NodeJS.ProcessEnv): ReceiverSecrets {
  const config = loadConfig({ ...env, STAGE: target.stage });
  if (!config.ssmEndpoint && !awsCredentialsFromEnv(env)) {
    throw new HookSettingsError(
      `rotate-secret --stage ${target.stage} writes SSM with your AWS credentials from the environment: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), e.g. eval "$(aws configure export-credentials --format env)"; AWS_PROFILE alone is not read`,
    );
  }
  const name = secretParameterName(target.params.secretsPath!, 'oktaAuthSecret');
  return {
    where: `the SSM parameter ${name} (${config.region})`,
    read: async () => commaList((await getParameters(config, [name], SSM_TIMEOUT_MS)).get(name)),
    write: (values) => putSecureParameter(config, name, values.join(','), SSM_TIMEOUT_MS),
    // A function's read under way at the write may return the old list and cache it from then.
    cacheMs: DEFAULT_SECRETS_CACHE_SECONDS * 1000 + RECEIVER_SSM_TIMEOUT_MS,
  };
}

/** How often a line says the wait goes on. */
const WAIT_REPORT_MS = 30_000;

async function waitOutCache(waitMs: number, out: (line: string) => void): Promise<void> {
  const until = Date.now() + waitMs;
  out(
    `    waiting ${Math.round(waitMs / 1000)} s: the receivers re-read their secrets within that`,
  );
  for (let left = until - Date.now(); left > 0; left = until - Date.now()) {
    await sleep(Math.min(left, WAIT_REPORT_MS));
    const remaining = Math.round((until - Date.now()) / 1000);
    if (remaining > 0) out(`    ${remaining} s left`);
  }
}

export interface RotateOptions {
  /** The endpoint; default the one Okta's hook has. */
  url: string | undefined;
  graceMs?: number;
  /** Overrides the receivers' cache time (a stage: SECRETS_CACHE_SECONDS, default 300 s). */
  cacheWaitMs?: number;
}

export async function rotateSecret(
  target: HookTarget,
  env: NodeJS.ProcessEnv,
  out: (line: string) => void,
  options: RotateOptions,
): Promise<void> {
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  const types = stageEventTypes(target);
  checkLimits(types);
  const authHeader = authHeaderName(env);
  const receiver = target.params.secretsPath ? stageSecrets(target, env) : localSecrets(env);
  const hook = await findHook(target.client, target.name, target.hookId);
  if (hook === undefined) {
    throw new HookSettingsError(
      `no event hook named ${target.name} in ${target.orgUrl}: run hook apply first`,
    );
  }
  const url = options.url ?? hook.channel.config.uri;

  let secrets = await receiver.read();
  if (secrets.length === 0) {
    throw new HookSettingsError(
      `${receiver.where} is missing or empty: nothing to rotate (set the first secret, then hook apply)`,
    );
  }
  if (secrets.length === 1) {
    secrets = [newSecret(), secrets[0]!];
    await receiver.write(secrets);
    out(`1/5 new secret generated; ${receiver.where} now accepts new and old`);
  } else {
    out(
      `1/5 rotation under way (${receiver.where} holds ${secrets.length} values): continuing with the first`,
    );
  }
  const [fresh, ...old] = secrets as [string, ...string[]];

  const cacheWaitMs = options.cacheWaitMs ?? receiver.cacheMs;
  if (cacheWaitMs > 0) await waitOutCache(cacheWaitMs, out);
  const pickUp = await waitForEndpoint(url, authHeader, fresh, true);
  out(`2/5 the endpoint accepts the new secret (after ${pickUp + cacheWaitMs} ms)`);

  const updated = await target.client.update(
    hook.id,
    hookBody({ name: hook.name, uri: url, authHeader, secret: fresh, types }),
  );
  out(`3/5 Okta's hook ${hook.id} sends the new secret from now on`);
  await verifyHook(target.client, updated);
  out(`4/5 Okta verified ${url} with the new secret`);

  if (old.length === 0) {
    out('5/5 nothing old to remove');
    return;
  }
  await sleep(graceMs);
  await receiver.write([fresh]);
  if (cacheWaitMs > 0) {
    out(
      `5/5 after a ${graceMs / 1000} s grace the old secret is removed from ${receiver.where}; the receivers refuse it within ${Math.round(cacheWaitMs / 1000)} s`,
    );
  } else {
    const dropped = await waitForEndpoint(url, authHeader, old[0]!, false);
    out(
      `5/5 after a ${graceMs / 1000} s grace the old secret is removed; the endpoint refuses it (after ${dropped} ms)`,
    );
  }
}
