/**
 * `npm run okta -- hook <apply|status|deactivate|delete|rotate-secret>`: Okta's event hook as
 * code (docs/event-hook-as-code.md). One line per thing done; one line and exit code 1 when Okta
 * or a setting refuses; exit code 2 for a bad command line. The secret is printed nowhere.
 */
import { parseArgs } from 'node:util';
import { ConfigError, OktaApiError, SecretsUnavailableError } from '../errors';
import { loadDotEnv } from '../local/dot-env';
import { HookVerificationError, applyHook, findHook } from './apply';
import { HookSettingsError } from './hook-definition';
import { authHeaderName, desiredHook, hookTarget, stageEventTypes } from './hook-settings';
import { DEFAULT_GRACE_MS, rotateSecret } from './rotate';
import { WEBHOOK_URL_OUTPUT, stageWebhookUrl } from './stage-endpoint';
import { knownStages } from './stage-params';
import { deliveryFailures, describeFailures, describeHook } from './status';

export const HOOK_USAGE = `Usage: npm run okta -- hook <command> [--stage S] [--url U] [--org URL]

  apply          creates or updates the stage's event hook (name okta-event-hooks-<stage>, or
                 OKTA_EVENT_HOOK_ID) with endpoint --url (a deployed stage: default its stack's
                 WebhookUrl output, read with your AWS credentials), the auth header OKTA_AUTH_HEADER, the
                 secret (OKTA_AUTH_SECRET locally, the stage's SSM parameter otherwise) and the
                 stage's event types (OKTA_EVENT_TYPES / params.<stage>.oktaEventTypes); then makes
                 it ACTIVE and VERIFIED. Nothing to change: no write call.
  status         the hook as Okta sees it, beside what apply would set (with --url), and Okta's
                 event_hook.delivery failures of the last 24 h
  rotate-secret  a new secret with no delivery refused: locally in .env (which npm start
                 reloads), for --stage S in its SSM parameter (with your AWS credentials from
                 the environment); re-run it to finish an interrupted rotation
  deactivate     --yes: Okta stops delivering to the hook
  delete         --yes: deactivates, then deletes the hook

Options:
  --stage S   a stage of serverless.yml (default local)
  --url U     the stage's endpoint, e.g. http://localhost:1337/okta-webhooks-endpoint, or the
              WebhookUrl output of serverless deploy (npx serverless info --stage S --verbose);
              rotate-secret defaults to the hook's own
  --org URL   the Okta org (default OKTA_ORG_URL), e.g. https://acme.okta.com or the fake org
  --yes       confirms deactivate and delete
  --grace S   rotate-secret: seconds the old secret is still accepted after Okta switched (default 10)
  --cache-wait S  rotate-secret: seconds the receivers take to re-read their secrets (a stage:
              default 301: SECRETS_CACHE_SECONDS 300 + 1 s; locally 0, the endpoint is polled)

Credentials: OKTA_API_TOKEN (SSWS), or OKTA_CLIENT_ID + OKTA_PRIVATE_KEY (a service app granted
okta.eventHooks.manage, and okta.logs.read for status).`;

const OPTIONS = {
  stage: { type: 'string' },
  url: { type: 'string' },
  org: { type: 'string' },
  yes: { type: 'boolean' },
  grace: { type: 'string' },
  'cache-wait': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

class HookUsageError extends Error {}

export interface HookIo {
  out(line: string): void;
  err(line: string): void;
}

interface HookArgs {
  stage: string;
  url: string | undefined;
  org: string | undefined;
  yes: boolean;
  graceMs: number;
  cacheWaitMs: number | undefined;
}

function parse(args: string[]): HookArgs & { help: boolean } {
  let values;
  try {
    ({ values } = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new HookUsageError((error as Error).message.split('\n')[0]!);
  }
  const stage = values.stage ?? 'local';
  const stages = knownStages();
  if (!stages.includes(stage)) {
    throw new HookUsageError(`--stage must be one of ${stages.join(', ')}, got "${stage}"`);
  }
  if (values.url !== undefined) {
    let url: URL;
    try {
      url = new URL(values.url);
    } catch {
      throw new HookUsageError(`--url must be an absolute http(s) URL, got "${values.url}"`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new HookUsageError(`--url must be an http or https URL, got "${values.url}"`);
    }
  }
  const grace = values.grace === undefined ? DEFAULT_GRACE_MS / 1000 : Number(values.grace);
  if (!(grace >= 0 && grace <= 3600)) {
    throw new HookUsageError(`--grace must be seconds from 0 to 3600, got "${values.grace}"`);
  }
  const cacheWait = values['cache-wait'];
  if (cacheWait !== undefined && !/^\d+$/.test(cacheWait)) {
    throw new HookUsageError(`--cache-wait must be whole seconds, got "${cacheWait}"`);
  }
  return {
    stage,
    url: values.url,
    org: values.org,
    yes: values.yes ?? false,
    graceMs: grace * 1000,
    cacheWaitMs: cacheWait === undefined ? undefined : Number(cacheWait) * 1000,
    help: values.help ?? false,
  };
}

function requireUrl(args: HookArgs, command: string): string {
  if (args.url === undefined) {
    throw new HookUsageError(
      `${command} needs --url: the endpoint Okta calls (locally http://localhost:1337/okta-webhooks-endpoint; a deployed stage's WebhookUrl output, which npx serverless info --stage ${args.stage} --verbose prints)`,
    );
  }
  return args.url;
}

async function apply(args: HookArgs, env: NodeJS.ProcessEnv, io: HookIo): Promise<number> {
  let url: string;
  if (args.url === undefined && args.stage !== 'local') {
    url = await stageWebhookUrl(args.stage, env);
    io.out(`endpoint ${url} (the stack's ${WEBHOOK_URL_OUTPUT} output)`);
  } else url = requireUrl(args, 'apply');
  const target = hookTarget(args, env);
  const desired = await desiredHook(target, url, env);
  try {
    await applyHook(target.client, desired, target.hookId, io.out);
  } finally {
    io.out(`(${target.client.writes} write calls to ${target.orgUrl})`);
  }
  return 0;
}

async function status(args: HookArgs, env: NodeJS.ProcessEnv, io: HookIo): Promise<number> {
  const target = hookTarget(args, env);
  const hook = await findHook(target.client, target.name, target.hookId);
  if (hook === undefined) {
    io.out(
      `no event hook named ${target.name} in ${target.orgUrl}: npm run okta -- hook apply --url <endpoint> creates it`,
    );
    return 1;
  }
  const desired =
    args.url === undefined
      ? undefined
      : {
          name: target.name,
          uri: args.url,
          authHeader: authHeaderName(env),
          types: stageEventTypes(target),
        };
  for (const line of describeHook(hook, desired)) io.out(line);
  for (const line of describeFailures(await deliveryFailures(target, hook.id))) io.out(line);
  return 0;
}

async function deactivateOrDelete(
  command: 'deactivate' | 'delete',
  args: HookArgs,
  env: NodeJS.ProcessEnv,
  io: HookIo,
): Promise<number> {
  if (!args.yes) {
    throw new HookUsageError(
      `${command} stops Okta's deliveries to the stage: add --yes to confirm`,
    );
  }
  const target = hookTarget(args, env);
  const hook = await findHook(target.client, target.name, target.hookId);
  if (hook === undefined) {
    io.out(`no event hook named ${target.name} in ${target.orgUrl}: nothing to ${command}`);
    return 0;
  }
  if (hook.status === 'ACTIVE') {
    await target.client.lifecycle(hook.id, 'deactivate');
    io.out(`deactivated ${hook.id} (${hook.name})`);
  } else if (command === 'deactivate') {
    io.out(`unchanged ${hook.id} (${hook.name}): already INACTIVE`);
  }
  if (command === 'delete') {
    await target.client.delete(hook.id);
    io.out(`deleted ${hook.id} (${hook.name})`);
  }
  return 0;
}

async function rotate(args: HookArgs, env: NodeJS.ProcessEnv, io: HookIo): Promise<number> {
  const target = hookTarget(args, env);
  await rotateSecret(target, env, io.out, {
    url: args.url,
    graceMs: args.graceMs,
    cacheWaitMs: args.cacheWaitMs,
  });
  return 0;
}

const COMMANDS: Record<
  string,
  (args: HookArgs, env: NodeJS.ProcessEnv, io: HookIo) => Promise<number>
> = {
  apply,
  status,
  'rotate-secret': rotate,
  deactivate: (args, env, io) => deactivateOrDelete('deactivate', args, env, io),
  delete: (args, env, io) => deactivateOrDelete('delete', args, env, io),
};

/** Runs `hook …`; returns the exit code. Only unexpected errors are thrown. */
export async function runHookCli(
  argv: string[],
  io: HookIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h') {
      if (command === undefined) throw new HookUsageError('a hook command is required');
      io.out(HOOK_USAGE);
      return 0;
    }
    const run = COMMANDS[command];
    if (run === undefined) throw new HookUsageError(`unknown hook command "${command}"`);
    const args = parse(rest);
    if (args.help) {
      io.out(HOOK_USAGE);
      return 0;
    }
    loadDotEnv(env);
    return await run(args, env, io);
  } catch (error) {
    if (error instanceof HookUsageError) {
      io.err(`okta hook: ${error.message}\n\n${HOOK_USAGE}`);
      return 2;
    }
    if (
      error instanceof HookSettingsError ||
      error instanceof HookVerificationError ||
      error instanceof OktaApiError ||
      error instanceof ConfigError ||
      error instanceof SecretsUnavailableError
    ) {
      io.err(`okta hook ${command}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
