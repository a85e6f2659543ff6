/**
 * `serverless package` builds the deployable artefact without AWS credentials, and no secret
 * set in the environment at build time ends up in it.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../lib/table-definition';
import { run } from '../helpers/run';

const CANARY = 'canary-secret-7f3a9c';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

let out: string;
afterAll(() => rmSync(out, { recursive: true, force: true }));

it('packages the production stage with no secret in any file', async () => {
  out = mkdtempSync(join(tmpdir(), 'okta-hooks-package-'));
  const workFolder = `.esbuild/package-${process.pid}`;
  const result = await run(
    [
      join(PROJECT_ROOT, 'node_modules/serverless/bin/serverless.js'),
      'package',
      '--stage',
      'production',
      '--package',
      out,
    ],
    {
      OKTA_AUTH_SECRET: CANARY,
      HOOKDECK_SIGNING_SECRET: CANARY,
      EVENTS_API_TOKEN: CANARY,
      ESBUILD_WORK_FOLDER: workFolder,
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
    },
  );
  rmSync(join(PROJECT_ROOT, workFolder), { recursive: true, force: true });
  expect(result).toMatchObject({ code: 0 });

  const template = JSON.parse(
    readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8'),
  );
  const resources = template.Resources as Record<
    string,
    { Type: string; Properties: Record<string, unknown> }
  >;
  expect(resources.EventsTable!.Properties).toMatchObject({
    TableName: 'okta-events-production',
    BillingMode: 'PAY_PER_REQUEST',
  });
  const functions = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function');
  expect(functions).toHaveLength(3);
  for (const fn of functions)
    expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'] });
  const routes = Object.values(resources)
    .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')
    .map((r) => r.Properties.RouteKey)
    .sort();
  expect(routes).toEqual([
    'GET /deliveries',
    'GET /events',
    'GET /events/{uuid}',
    'GET /okta-webhooks-endpoint',
    'POST /okta-webhooks-endpoint',
  ]);

  const files = filesUnder(out);
  expect(files.some((f) => f.endsWith('.zip'))).toBe(true);
  for (const file of files) {
    expect({ file, leaks: readFileSync(file).includes(CANARY) }).toEqual({ file, leaks: false });
  }
}, 180_000);
