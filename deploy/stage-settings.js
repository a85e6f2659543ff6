'use strict';
/**
 * The settings that shape a stage (serverless.yml `params`): each deployed stage sets every one of
 * them in its own block, never from the shell (`${env:...}`), so a deploy from any machine builds
 * the same stack; the local stage takes them from the environment. A value outside its allowed
 * set fails every command (npm start included) with one line naming the setting, and
 * `serverless deploy` refuses a stage still holding example.com placeholders.
 */
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { parse } = require('yaml');

const any = { test: () => true, allowed: 'any text' };
const pattern = (regex, allowed) => ({ test: (v) => regex.test(v), allowed });

/** Setting → the environment variable the local stage reads it from, and its allowed values. */
const STAGE_SETTINGS = {
  alarmEmail: {
    env: 'ALARM_EMAIL',
    ...pattern(/^$|^[^@\s]+@[^@\s]+\.[^@\s]+$/, "'' or an e-mail address"),
  },
  webhookPath: { env: 'WEBHOOK_PATH', ...pattern(/^\/[\w\-./]*$/, 'a path starting with /') },
  oktaAuthHeader: {
    env: 'OKTA_AUTH_HEADER',
    ...pattern(/^[\w!#$%&'*+.^`|~-]+$/, 'an HTTP header name'),
  },
  retentionDays: {
    env: 'RETENTION_DAYS',
    ...pattern(/^\d+$/, 'a whole number of days (0: keep forever)'),
  },
  oktaOrgUrl: {
    env: 'OKTA_ORG_URL',
    ...pattern(/^$|^https?:\/\/[^/\s]+\/?$/, "'' (reconciler off) or https://<your org>"),
  },
  oktaClientId: { env: 'OKTA_CLIENT_ID', ...any },
  oktaKeyId: { env: 'OKTA_KEY_ID', ...any },
  oktaEventHookId: { env: 'OKTA_EVENT_HOOK_ID', ...any },
  oktaEventTypes: { env: 'OKTA_EVENT_TYPES', ...any },
  systemLogLookbackHours: {
    env: 'SYSTEM_LOG_LOOKBACK_HOURS',
    ...pattern(/^\d+$/, 'a whole number of hours'),
  },
  systemLogRateLimitShare: {
    env: 'SYSTEM_LOG_RATE_LIMIT_SHARE',
    ...pattern(/^(0?\.\d+|1(\.0+)?)$/, 'a number above 0, at most 1'),
  },
  eventBridge: { env: 'EVENT_BRIDGE', ...pattern(/^(true|false)$/, 'true, false') },
  forwardUrl: {
    env: 'FORWARD_URL',
    ...pattern(/^$|^https?:\/\/\S+$/, "'' (forward off) or an https:// URL"),
  },
  forwardTypes: {
    env: 'FORWARD_TYPES',
    ...pattern(/^[\w.*,\s-]*$/, "event types such as 'user.lifecycle.*', or '*'"),
  },
  reactions: { env: 'REACTIONS', ...any },
  oktaIssuer: {
    env: 'OKTA_ISSUER',
    ...pattern(
      /^$|^https?:\/\/[^/\s]+\/\S+$/,
      "'' (sign-in off) or https://<your org>/oauth2/<server>",
    ),
  },
  oktaUiClientId: { env: 'OKTA_UI_CLIENT_ID', ...any },
  oktaUiGroups: { env: 'OKTA_UI_GROUPS', ...any },
  uiTokenSignIn: { env: 'UI_TOKEN_SIGN_IN', ...pattern(/^(true|false)$/, 'true, false') },
  oktaApiAudience: {
    env: 'OKTA_API_AUDIENCE',
    ...pattern(/^\S+$/, 'an audience such as api://default'),
  },
  oktaApiScopes: {
    env: 'OKTA_API_SCOPES',
    ...pattern(/^[\w.:/-]+(,[\w.:/-]+)*$/, 'a comma list of scopes'),
  },
  oktaApiGroups: { env: 'OKTA_API_GROUPS', ...any },
  oktaApiClientIds: { env: 'OKTA_API_CLIENT_IDS', ...any },
  readApiStaticTokens: {
    env: 'READ_API_STATIC_TOKENS',
    ...pattern(/^(true|false)$/, 'true, false'),
  },
};

/** RFC 2606's example domain: a placeholder, never a real org, mailbox or receiver. */
const EXAMPLE = /(^|[@./])example\.com(\/|$)/;

class StageSettings {
  constructor(serverless) {
    this.serverless = serverless;
    const deployCheck = () => this.refuseExamples();
    this.hooks = {
      initialize: () => this.check(),
      'before:deploy:deploy': deployCheck,
      'before:deploy:function:initialize': deployCheck,
    };
  }

  stage() {
    return this.serverless.getProvider('aws').getStage();
  }

  /** The stage's resolved settings (its own block first, then `default`). */
  values() {
    const params = this.serverless.configurationInput.params ?? {};
    const own = params[this.stage()] ?? {};
    return Object.fromEntries(
      Object.keys(STAGE_SETTINGS).map((name) => [
        name,
        `${own[name] ?? params.default?.[name] ?? ''}`,
      ]),
    );
  }

  fail(message) {
    throw new this.serverless.classes.Error(message, 'STAGE_SETTINGS');
  }

  check() {
    const stage = this.stage();
    // The file as written: resolution has already replaced ${env:...} by the shell's values.
    const file = join(this.serverless.serviceDir, this.serverless.configurationFilename);
    const written = parse(readFileSync(file, 'utf8')).params?.[stage];
    if (stage !== 'local' && stage !== 'default' && written) {
      const missing = Object.keys(STAGE_SETTINGS).filter((name) => !(name in written));
      if (missing.length > 0)
        this.fail(
          `params.${stage} in serverless.yml lacks ${missing.join(', ')}: a deployed stage sets every stage setting itself (docs/deploying.md, "Stage settings")`,
        );
      const fromShell = Object.keys(STAGE_SETTINGS).filter((name) =>
        /\$\{env:/.test(`${written[name]}`),
      );
      if (fromShell.length > 0)
        this.fail(
          `params.${stage}.${fromShell[0]} reads the shell (\${env:...}): write the value itself, so every deploy of ${stage} builds the same stack`,
        );
    }
    for (const [name, value] of Object.entries(this.values())) {
      const setting = STAGE_SETTINGS[name];
      if (setting.test(value)) continue;
      const where = written ? `params.${stage}.${name}` : `${setting.env} (params ${name})`;
      this.fail(`${where} is "${value}": allowed values are ${setting.allowed}`);
    }
  }

  refuseExamples() {
    const examples = Object.entries(this.values()).filter(([, value]) => EXAMPLE.test(value));
    if (examples.length > 0)
      this.fail(
        `Stage "${this.stage()}" still has example settings (${examples.map(([name, value]) => `${name}: ${value}`).join(', ')}): set your own, or '', in serverless.yml params.${this.stage()}`,
      );
  }
}

module.exports = StageSettings;
