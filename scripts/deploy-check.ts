/**
 * npm run deploy:check [-- --stage S] [--accept]: packages each deployable stage (or S) with no AWS
 * credentials and runs every check in deploy/check/checks.ts on it. One line per failure,
 * naming the file or logical id and what to change; exit code 0 only when everything holds.
 * --accept keeps each packaged template as the stage's deployed one (deploy/templates/), the
 * base of the next diff: run it after `serverless deploy`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CHECKS } from '../deploy/check/checks';
import { PROJECT_ROOT, PackageError, packageStage } from '../deploy/check/package-stage';
import { acceptStageTemplate, templatePath } from '../deploy/check/stage-diff';
import type { Finding } from '../deploy/check/types';

/** Stages with a secrets path can be packaged (deploy/deployable-stage.js); `default` is not one. */
function deployableStages(): string[] {
  const config = parse(readFileSync(join(PROJECT_ROOT, 'serverless.yml'), 'utf8')) as {
    params?: Record<string, { secretsPath?: string }>;
  };
  return Object.entries(config.params ?? {})
    .filter(([stage, params]) => stage !== 'default' && Boolean(params.secretsPath))
    .map(([stage]) => stage);
}

function parseArgs(argv: string[]): { stages: string[]; accept: boolean } {
  const stages: string[] = [];
  let accept = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--accept') accept = true;
    else if (arg === '--stage' && argv[i + 1]) stages.push(argv[++i]!);
    else if (arg?.startsWith('--stage=')) stages.push(arg.slice('--stage='.length));
    else {
      throw new Error(
        `unknown argument ${arg}; usage: npm run deploy:check [-- --stage <stage>] [--accept]`,
      );
    }
  }
  return { stages, accept };
}

async function main(): Promise<number> {
  const started = performance.now();
  const known = deployableStages();
  const { stages, accept } = parseArgs(process.argv.slice(2));
  for (const stage of stages)
    if (!known.includes(stage)) {
      console.error(`deploy:check: "${stage}" is not a deployable stage (${known.join(', ')})`);
      return 2;
    }
  let failures = 0;
  for (const stage of stages.length > 0 ? stages : known) {
    let packaged;
    try {
      packaged = await packageStage(stage);
    } catch (error) {
      if (!(error instanceof PackageError)) throw error;
      console.log(`${stage}: FAIL package: ${error.message}`);
      failures++;
      continue;
    }
    try {
      for (const check of CHECKS) {
        const checkStarted = performance.now();
        let findings: Finding[];
        try {
          findings = await check.run({
            stage,
            template: packaged.template,
            packageDir: packaged.packageDir,
          });
        } catch (error) {
          findings = [
            { where: check.name, message: `the check itself failed: ${(error as Error).message}` },
          ];
        }
        const ms = Math.round(performance.now() - checkStarted);
        const failed = findings.filter((finding) => !finding.note);
        console.log(`${stage}: ${failed.length === 0 ? 'ok  ' : 'FAIL'} ${check.name} (${ms} ms)`);
        for (const finding of findings)
          console.log(`${stage}: ${finding.where}: ${finding.message}`);
        failures += failed.length;
      }
      if (accept) {
        acceptStageTemplate(stage, packaged.template);
        console.log(`${stage}: kept as ${templatePath(stage)}: commit it`);
      }
    } finally {
      packaged.cleanup();
    }
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    failures === 0
      ? `deploy:check: all checks passed in ${seconds} s`
      : `deploy:check: ${failures} failure(s) in ${seconds} s`,
  );
  return failures === 0 ? 0 : 1;
}

// Exit codes, not process.exit(): the process ends once its output has drained into a pipe.
main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(`deploy:check: ${(error as Error).message}`);
    process.exitCode = 2;
  },
);
