/**
 * The functions run on the Node.js the tests ran on: every function's `Runtime` (nodejsNN.x) has
 * the major of the Node running this check (npm scripts put node_modules/.bin first, where the
 * node-<platform> packages of package.json put that Node), and those packages have it too.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from './package-stage';
import type { DeployCheck, Finding, Template } from './types';

/** The Node.js major of each function's runtime, by logical id. */
export function functionRuntimes(template: Template): Map<string, string> {
  const runtimes = new Map<string, string>();
  for (const [id, resource] of Object.entries(template.Resources))
    if (resource.Type === 'AWS::Lambda::Function')
      runtimes.set(id, String(resource.Properties?.Runtime ?? ''));
  return runtimes;
}

export function runtimeFindings(
  template: Template,
  nodeVersion: string,
  optionalDependencies: Record<string, string>,
): Finding[] {
  const nodeMajor = nodeVersion.replace(/^v/, '').split('.')[0];
  const findings: Finding[] = [];
  for (const [id, runtime] of functionRuntimes(template)) {
    const major = /^nodejs(\d+)\.x$/.exec(runtime)?.[1];
    if (major === undefined)
      findings.push({ where: id, message: `runtime "${runtime}" is not a nodejsNN.x runtime` });
    else if (major !== nodeMajor)
      findings.push({
        where: id,
        message: `runtime ${runtime} but the tests run on Node ${nodeMajor}: make provider.runtime in serverless.yml and the node-* packages in package.json the same major`,
      });
  }
  for (const [name, range] of Object.entries(optionalDependencies))
    if (/^node-(linux|darwin|win)-/.test(name) && /^\D*(\d+)/.exec(range)?.[1] !== nodeMajor)
      findings.push({
        where: `package.json optionalDependencies.${name}`,
        message: `${range} is not Node ${nodeMajor}, the major of the functions' runtime`,
      });
  return findings;
}

export const runtimeCheck: DeployCheck = {
  name: 'runtime',
  run: ({ template }) => {
    const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
      optionalDependencies?: Record<string, string>;
    };
    return runtimeFindings(template, process.version, pkg.optionalDependencies ?? {});
  },
};
