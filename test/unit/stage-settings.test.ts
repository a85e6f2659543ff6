/**
 * deploy/stage-settings.js on a serverless.yml of its own: a deployed stage sets every stage
 * setting in its params block, never from the shell, within the allowed values; deploy refuses
 * example.com placeholders. (test/e2e/package.test.ts runs it inside osls for the local stage.)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import StageSettings from '../../deploy/stage-settings';

const PRODUCTION = {
  secretsPath: '/okta-event-hooks/production',
  alarmEmail: '',
  webhookPath: '/okta-webhooks-endpoint',
  oktaAuthHeader: 'authorization',
  retentionDays: '90',
  oktaOrgUrl: '',
  oktaClientId: '',
  oktaKeyId: '',
  oktaEventHookId: '',
  oktaEventTypes: '',
  systemLogLookbackHours: '24',
  systemLogRateLimitShare: '0.5',
  eventBridge: 'false',
  forwardUrl: '',
  forwardTypes: '*',
  reactions: '',
  oktaIssuer: '',
  oktaUiClientId: '',
  oktaUiGroups: '',
  uiTokenSignIn: 'true',
  oktaApiAudience: 'api://default',
  oktaApiScopes: 'events:read',
  oktaApiGroups: '',
  oktaApiClientIds: '',
  readApiStaticTokens: 'true',
};

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'stage-settings-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

class ServerlessError extends Error {}

/** Runs the plugin's hook on `params` as written and as resolved (the same here). */
function hook(name: string, production: Record<string, unknown>): void {
  const params = { default: { eventBridge: "${env:EVENT_BRIDGE, 'false'}" }, production };
  writeFileSync(join(dir, 'serverless.yml'), stringify({ params }));
  const plugin = new StageSettings({
    getProvider: () => ({ getStage: () => 'production' }),
    configurationInput: { params },
    serviceDir: dir,
    configurationFilename: 'serverless.yml',
    classes: { Error: ServerlessError },
  });
  plugin.hooks[name]!();
}

it('accepts a stage that sets every setting itself', () => {
  expect(() => hook('initialize', PRODUCTION)).not.toThrow();
  expect(() => hook('before:deploy:deploy', PRODUCTION)).not.toThrow();
});

it('refuses a value outside its allowed set with one line naming the setting', () => {
  expect(() => hook('initialize', { ...PRODUCTION, eventBridge: 'maybe' })).toThrow(
    new ServerlessError('params.production.eventBridge is "maybe": allowed values are true, false'),
  );
});

it('refuses a stage that leaves a setting to the default block or reads the shell', () => {
  const { eventBridge: _, ...withoutBus } = PRODUCTION;
  expect(() => hook('initialize', withoutBus)).toThrow(
    /^params\.production in serverless\.yml lacks eventBridge: a deployed stage sets every stage setting itself/,
  );
  expect(() => hook('initialize', { ...PRODUCTION, alarmEmail: "${env:ALARM_EMAIL, ''}" })).toThrow(
    /^params\.production\.alarmEmail reads the shell \(\$\{env:\.\.\.\}\)/,
  );
});

it('refuses to deploy example.com placeholders, naming them', () => {
  const staged = {
    ...PRODUCTION,
    alarmEmail: 'oncall@example.com',
    oktaOrgUrl: 'https://acme.okta.com',
  };
  expect(() => hook('initialize', staged)).not.toThrow();
  expect(() => hook('before:deploy:deploy', staged)).toThrow(
    'Stage "production" still has example settings (alarmEmail: oncall@example.com): set your own, or \'\', in serverless.yml params.production',
  );
});
