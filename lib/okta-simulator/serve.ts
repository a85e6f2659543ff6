/**
 * `npm run okta -- serve`: the fake Okta org (fake-org.ts) as a long-running process, so that
 * `send --org` can record events in its System Log and `npm run reconcile` can read them back.
 */
import { createPublicKey, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parsePrivateKey } from '../okta/okta-auth';
import {
  DEFAULT_EVENT_BROWSER_APP,
  type FakeOidcApp,
  type FakeUser,
  parseFakeUsers,
} from './authorization-server';
import { type FakeOrgClient, startFakeOktaOrg } from './fake-org';

export interface ServeOptions {
  port: number;
  token: string | undefined;
  clientId: string | undefined;
  publicKeyFile: string | undefined;
  keyId: string | undefined;
  hookId: string;
  hookTypes: string[];
  rateLimit: number;
  linkStyle: 'lines' | 'joined';
  /** The authorization server signs in as this user without showing its login form. */
  autoLogin?: string;
  /** JSON users file (authorization-server.ts parseFakeUsers); default DEFAULT_FAKE_USERS. */
  usersFile?: string;
  /** More redirect URIs of the event browser app (another port of `npm start`). */
  redirectUris?: string[];
}

function readUsers(file: string): FakeUser[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`--users ${file}: cannot read it (${(error as NodeJS.ErrnoException).code})`);
  }
  try {
    return parseFakeUsers(text);
  } catch (error) {
    throw new Error(`--users ${file}: ${(error as Error).message}`);
  }
}

/** The event browser app, with each extra redirect URI and its origin's /ui after logout. */
function eventBrowserApp(redirectUris: string[]): FakeOidcApp {
  const app = DEFAULT_EVENT_BROWSER_APP;
  const logoutUris = redirectUris.map((uri) => `${new URL(uri).origin}/ui`);
  return {
    ...app,
    redirectUris: [...new Set([...app.redirectUris, ...redirectUris])],
    postLogoutRedirectUris: [...new Set([...app.postLogoutRedirectUris, ...logoutUris])],
  };
}

export interface ServeOutput {
  out(line: string): void;
  err(line: string): void;
}

/** Runs until SIGINT or SIGTERM; resolves with the exit code. */
export async function serveFakeOrg(
  options: ServeOptions,
  io: ServeOutput,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const clientId = options.clientId ?? (env.OKTA_CLIENT_ID?.trim() || undefined);
  let client: FakeOrgClient | undefined;
  if (clientId !== undefined) {
    let publicKey: string;
    if (options.publicKeyFile !== undefined) {
      publicKey = readFileSync(options.publicKeyFile, 'utf8');
    } else if (env.OKTA_PRIVATE_KEY?.trim()) {
      // The org only ever holds the public half, as Okta does.
      const { key } = parsePrivateKey(env.OKTA_PRIVATE_KEY);
      publicKey = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
    } else {
      throw new Error(
        'serve: a service app needs its public key: --public-key FILE, or OKTA_PRIVATE_KEY in the environment',
      );
    }
    // A service app for the reconciler and for `hook` (issue 20): read the log, manage hooks.
    client = {
      clientId,
      publicKey,
      keyId: options.keyId,
      scopes: ['okta.logs.read', 'okta.eventHooks.read', 'okta.eventHooks.manage'],
    };
  }
  const token =
    options.token ??
    (env.OKTA_API_TOKEN?.trim() ||
      (client ? undefined : `00fake${randomBytes(18).toString('base64url')}`));

  const users = options.usersFile === undefined ? undefined : readUsers(options.usersFile);
  const app = eventBrowserApp(options.redirectUris ?? []);
  let org;
  try {
    org = await startFakeOktaOrg({
      authorizationServer: { users, autoLogin: options.autoLogin, apps: [app] },
      port: options.port,
      apiToken: token,
      clients: client ? [client] : [],
      rateLimit: { limit: options.rateLimit, windowMs: 60_000 },
      linkStyle: options.linkStyle,
      onRequest: (line) => io.out(line),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`port ${options.port} is already in use: choose another with --port`);
    }
    throw error;
  }
  // The local stage's hook, as `hook apply` names it: apply takes it over (its endpoint, secret).
  org.hooks.seed(options.hookId, options.hookTypes, {
    name: 'okta-event-hooks-local',
    uri: 'http://localhost:1337/okta-webhooks-endpoint',
    verified: false,
  });
  io.out(
    `Fake Okta org on ${org.url}: System Log, OAuth token endpoint, Event Hooks API, authorization server`,
  );
  io.out(`  OKTA_ORG_URL=${org.url}`);
  if (token !== undefined)
    io.out(`  OKTA_API_TOKEN=${token}   (the SSWS token this fake org accepts)`);
  if (client)
    io.out(
      `  OKTA_CLIENT_ID=${client.clientId}   (private_key_jwt, okta.logs.read, okta.eventHooks.manage)`,
    );
  io.out(`  OKTA_EVENT_HOOK_ID=${options.hookId}   (${options.hookTypes.length} event types)`);
  const server = org.authorizationServer;
  io.out(`Sign in with Okta (the event browser app; a fake, local-only client secret):`);
  io.out(`  OKTA_ISSUER=${server.issuer}`);
  io.out(`  OKTA_UI_CLIENT_ID=${app.clientId}`);
  io.out(`  OKTA_UI_CLIENT_SECRET=${app.clientSecret}`);
  io.out(`  redirect URIs: ${app.redirectUris.join(', ')}`);
  io.out(
    `  users${options.autoLogin ? ` (signs in as ${options.autoLogin} without a form)` : ''}:`,
  );
  for (const user of server.listUsers()) {
    const denied = user.denied ? ', not assigned to the app' : '';
    io.out(`    ${user.login} (${user.name}; groups ${user.groups.join(', ') || 'none'}${denied})`);
  }
  io.out(
    `Record events: npm run okta -- send --url <hook endpoint> --type all --count 100 --org ${org.url} --drop 0.2`,
  );
  io.out(
    `Register an event hook: npm run okta -- hook apply --url <hook endpoint> --org ${org.url}; then: npm run okta -- emit --org ${org.url} --type all --count 10`,
  );
  io.out('Ctrl-C stops it.');

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await org.stop();
  return 0;
}
