/**
 * Jest globalSetup: turns on the AWS call recorder (lib/aws/call-recorder.ts) for the whole run.
 * Test workers, serverless offline and its handlers inherit AWS_CALL_LOG from here; the
 * teardown (aws-calls-global-teardown.ts) checks the log against deploy/permissions.json.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AWS_CALL_LOG } from '../../lib/aws/call-recorder';

/** Set when this run made the log file (and so removes it): a log the caller named is kept. */
export const OWN_LOG = 'AWS_CALL_LOG_OWNED_BY_JEST';

export default function setup(): void {
  if (process.env[AWS_CALL_LOG]) return;
  const file = join(tmpdir(), `okta-hooks-aws-calls-${process.pid}.jsonl`);
  writeFileSync(file, '');
  process.env[AWS_CALL_LOG] = file;
  process.env[OWN_LOG] = file;
}
