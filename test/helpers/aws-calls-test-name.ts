/**
 * setupFilesAfterEnv: names the test that made each recorded AWS call. serverless offline
 * started in a beforeAll inherits the file's name; in-process calls get the test's name too.
 */
import { relative } from 'node:path';
import { AWS_CALL_LOG_TEST } from '../../lib/aws/call-recorder';

const file = relative(process.cwd(), expect.getState().testPath ?? 'unknown test file');
process.env[AWS_CALL_LOG_TEST] = file;
beforeEach(() => {
  process.env[AWS_CALL_LOG_TEST] = `${file} › ${expect.getState().currentTestName ?? ''}`;
});
afterEach(() => {
  process.env[AWS_CALL_LOG_TEST] = file;
});
