/**
 * Jest globalTeardown: runs once after every project's test files, whatever their order, so it
 * sees every recorded AWS call. Fails the run (jest exits non-zero) on a call of a function that
 * deploy/permissions.json does not allow, one line per call naming function, action and test.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { AWS_CALL_LOG, type AwsCallRecord } from '../../lib/aws/call-recorder';
import { loadManifest, unlistedCalls } from '../../deploy/check/permissions';
import { OWN_LOG } from './aws-calls-global-setup';

export default function teardown(): void {
  const file = process.env[AWS_CALL_LOG];
  if (!file || !existsSync(file)) return;
  const records = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as AwsCallRecord);
  if (process.env[OWN_LOG] === file) rmSync(file, { force: true });
  const unlisted = unlistedCalls(records, loadManifest());
  if (unlisted.length === 0) return;
  const error = new Error(
    `AWS calls that no IAM role allows (add them to deploy/permissions.json and the function's iamRoleStatements in serverless.yml):\n${unlisted.join('\n')}`,
  );
  error.stack = error.message; // the lines say it all: Jest's frames would only bury them
  throw error;
}
