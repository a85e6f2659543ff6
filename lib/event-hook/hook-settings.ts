/**
 * Where `hook` commands get what they need, for a stage or the local endpoint:
 *
 * - the org (`--org`, else OKTA_ORG_URL, else the stage's `oktaOrgUrl` param) and the admin's
 *   credentials (OKTA_API_TOKEN, or OKTA_CLIENT_ID + OKTA_PRIVATE_KEY), as the reconciler reads them;
 * - the hook: OKTA_EVENT_HOOK_ID (or the stage's `oktaEventHookId` param), else the name
 *   `okta-event-hooks-<stage>`;
 * - the endpoint (`--url`), the auth header (OKTA_AUTH_HEADER), the event types (the stage's
 *   `oktaEventTypes` param in serverless.yml, which the reconciler is deployed with);
 * - the secret: locally OKTA_AUTH_SECRET's first value; for a deployed stage its SSM parameter.
 */
import { loadConfig, parseOrgUrl } from '../config';
import { ConfigError } from '../errors';
import { OktaAuth } from '../okta/okta-auth';
import { EVENT_HOOKS_MANAGE_SCOPE, EventHooksClient } from '../okta/event-hooks-client';
import { oktaCredentials } from '../reconcile/reconciler';
import { getParameters, secretParameterName } from '../secrets';
import { type DesiredHook, HookSettingsError, defaultHookName } from './hook-definition';
import { stageParams } from './stage-params';

/** Okta's usual Authentication field; the service compares header names case-insensitively. */
const DEFAULT_AUTH_HEADER = 'Authorization';
/** Reading a parameter from a laptop is not on Okta's clock. */
const SSM_READ_TIMEOUT_MS = 10_000;

export interface HookTarget {
  stage: string;
  orgUrl: string;
  name: string;
  hookId: string | undefined;
  client: EventHooksClient;
  /** Credentials for other scopes (the System Log for status). */
  authFor(scopes: string[]): OktaAuth;
  params: Record<string, string>;
}

function commaList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function hookTarget(
  options: { stage: string; org: string | undefined },
  env: NodeJS.ProcessEnv,
): HookTarget {
  const params = stageParams(options.stage, env);
  const rawOrg = options.org ?? (env.OKTA_ORG_URL?.trim() || params.oktaOrgUrl);
  if (!rawOrg) {
    throw new HookSettingsError(
      'no Okta org: give --org https://acme.okta.com, or set OKTA_ORG_URL',
    );
  }
  const orgUrl = parseOrgUrl(rawOrg, options.org ? '--org' : 'OKTA_ORG_URL');
  // The admin's own credentials, from the environment (or .env), never from the stage's SSM.
  const config = loadConfig({ ...env, STAGE: options.stage, SECRETS_PATH: '' });
  let credentials;
  try {
    credentials = oktaCredentials(config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new HookSettingsError(
      `no Okta credentials: set OKTA_API_TOKEN, or OKTA_CLIENT_ID and OKTA_PRIVATE_KEY of a service app granted ${EVENT_HOOKS_MANAGE_SCOPE}`,
    );
  }
  const authFor = (scopes: string[]) => new OktaAuth(orgUrl, credentials, scopes);
  return {
    stage: options.stage,
    orgUrl,
    name: defaultHookName(options.stage),
    hookId: env.OKTA_EVENT_HOOK_ID?.trim() || params.oktaEventHookId || undefined,
    client: new EventHooksClient(orgUrl, authFor([EVENT_HOOKS_MANAGE_SCOPE])),
    authFor,
    params,
  };
}

/** The event types the stage is deployed with (and reconciles). */
export function stageEventTypes(target: HookTarget): string[] {
  return commaList(target.params.oktaEventTypes);
}

export function authHeaderName(env: NodeJS.ProcessEnv): string {
  return env.OKTA_AUTH_HEADER?.trim() || DEFAULT_AUTH_HEADER;
}

/** The secret Okta should send: the first (newest) of the receiver's accepted values. */
export async function stageSecret(target: HookTarget, env: NodeJS.ProcessEnv): Promise<string> {
  const secretsPath = target.params.secretsPath;
  if (!secretsPath) {
    const secret = commaList(env.OKTA_AUTH_SECRET)[0];
    if (secret === undefined) {
      throw new HookSettingsError(
        "no OKTA_AUTH_SECRET: set it in .env (the value Okta sends in the auth header, e.g. a long random string), the same one npm start's endpoint accepts",
      );
    }
    return secret;
  }
  const name = secretParameterName(secretsPath, 'oktaAuthSecret');
  const config = loadConfig(env);
  const values = await getParameters(config, [name], SSM_READ_TIMEOUT_MS);
  const secret = commaList(values.get(name))[0];
  if (secret === undefined) {
    throw new HookSettingsError(
      `the SSM parameter ${name} is missing or empty: create it first (docs/deploying.md)`,
    );
  }
  return secret;
}

export async function desiredHook(
  target: HookTarget,
  url: string,
  env: NodeJS.ProcessEnv,
  secret?: string,
): Promise<DesiredHook> {
  return {
    name: target.name,
    uri: url,
    authHeader: authHeaderName(env),
    secret: secret ?? (await stageSecret(target, env)),
    types: stageEventTypes(target),
  };
}
