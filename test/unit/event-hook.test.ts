/** What `hook apply` wants and compares: Okta's limits, the differences, serverless.yml's params. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type DesiredHook,
  checkLimits,
  differences,
  hookBody,
} from '../../lib/event-hook/hook-definition';
import { stageParams } from '../../lib/event-hook/stage-params';
import type { OktaEventHook } from '../../lib/okta/event-hooks-client';

const desired: DesiredHook = {
  name: 'okta-event-hooks-local',
  uri: 'http://localhost:1337/okta-webhooks-endpoint',
  authHeader: 'Authorization',
  secret: 'never-compared',
  types: ['user.session.start', 'user.lifecycle.create'],
};

function asOktaHas(overrides: Partial<DesiredHook> = {}): OktaEventHook {
  const body = hookBody({ ...desired, ...overrides });
  return {
    id: 'who1',
    status: 'ACTIVE',
    verificationStatus: 'VERIFIED',
    ...body,
    channel: {
      ...body.channel,
      config: { ...body.channel.config, authScheme: { type: 'HEADER', key: 'authorization' } },
    },
  };
}

it('finds no difference when only the order of types or the header name case differ', () => {
  expect(differences(asOktaHas({ types: [...desired.types].reverse() }), desired)).toEqual([]);
});

it('names each difference', () => {
  const okta = asOktaHas({
    name: 'old',
    uri: 'https://old.example.com/hook',
    types: ['user.session.start', 'group.user_membership.add'],
  });
  expect(differences(okta, desired)).toEqual([
    'name old → okta-event-hooks-local',
    'uri https://old.example.com/hook → http://localhost:1337/okta-webhooks-endpoint',
    'types +user.lifecycle.create -group.user_membership.add',
  ]);
});

it('refuses what Okta would, by name: no types, more than 300, types not offered for hooks', () => {
  expect(() => checkLimits([])).toThrow(/^no event types: set OKTA_EVENT_TYPES/);
  const many = Array.from({ length: 301 }, (_, i) => `user.x${i}`);
  expect(() => checkLimits(many)).toThrow(
    '301 event types: Okta allows at most 300 per event hook',
  );
  // In Okta's catalog, but not tagged event-hook-eligible.
  expect(() => checkLimits(['user.session.start', 'policy.lifecycle.create'])).toThrow(
    /^Okta does not offer policy\.lifecycle\.create for event hooks/,
  );
  // Tagged event-hook-eligible in the catalog (2026.08.1).
  expect(() => checkLimits(['system.api_token.create', 'access.request.cancel'])).not.toThrow();
  expect(() => checkLimits(desired.types)).not.toThrow();
});

it("reads a stage's params as serverless.yml resolves them: default, stage, ${env:…, 'fallback'}", () => {
  const dir = mkdtempSync(join(tmpdir(), 'params-'));
  try {
    const file = join(dir, 'serverless.yml');
    writeFileSync(
      file,
      [
        'service: svc',
        'params:',
        '  default:',
        "    oktaEventTypes: ${env:OKTA_EVENT_TYPES, ''}",
        "    secretsPath: ''",
        '  staging:',
        '    secretsPath: /${self:service}/staging',
        '    oktaEventTypes: user.session.start,user.lifecycle.create',
      ].join('\n'),
    );
    expect(stageParams('local', { OKTA_EVENT_TYPES: 'user.session.start' }, file)).toEqual({
      oktaEventTypes: 'user.session.start',
      secretsPath: '',
    });
    expect(stageParams('local', {}, file).oktaEventTypes).toBe('');
    expect(stageParams('staging', { OKTA_EVENT_TYPES: 'ignored' }, file)).toEqual({
      oktaEventTypes: 'user.session.start,user.lifecycle.create',
      secretsPath: '/svc/staging',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
