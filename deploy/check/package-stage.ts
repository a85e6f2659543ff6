/** `serverless package --stage S` into a temporary folder, as `serverless deploy` would build it. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Template } from './types';

export const PROJECT_ROOT = join(__dirname, '..', '..');

export interface PackagedStage {
  stage: string;
  packageDir: string;
  template: Template;
  /** Removes the package folder. */
  cleanup(): void;
}

export class PackageError extends Error {}

/**
 * Packages one stage. Stages are packaged one after the other: packaging writes the functions'
 * zips to the shared .serverless/ folder, so two at once remove each other's files.
 */
export async function packageStage(
  stage: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<PackagedStage> {
  const packageDir = mkdtempSync(join(tmpdir(), `okta-hooks-${stage}-`));
  const workFolder = `.esbuild/package-${stage}-${process.pid}`;
  const { code, output } = await new Promise<{ code: number | null; output: string }>(
    (resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          join(PROJECT_ROOT, 'node_modules/serverless/bin/serverless.js'),
          'package',
          '--stage',
          stage,
          '--package',
          packageDir,
        ],
        {
          cwd: PROJECT_ROOT,
          env: {
            ...env,
            ESBUILD_WORK_FOLDER: workFolder,
            SLS_TELEMETRY_DISABLED: '1',
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, output }));
    },
  );
  rmSync(join(PROJECT_ROOT, workFolder), { recursive: true, force: true });
  const cleanup = () => rmSync(packageDir, { recursive: true, force: true });
  if (code !== 0) {
    cleanup();
    // serverless prints its own error last: keep the lines that say what failed.
    const lines = output.split('\n').filter((line) => line.trim() !== '');
    throw new PackageError(
      `serverless package --stage ${stage} failed: ${lines.slice(-3).join(' | ')}`,
    );
  }
  const template = JSON.parse(
    readFileSync(join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as Template;
  return { stage, packageDir, template, cleanup };
}
