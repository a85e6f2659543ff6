/**
 * Runs an in-process handler as the deployed function would run: while it runs, the AWS calls it
 * makes are recorded as that function's (lib/aws/call-recorder.ts), so the end of the test run
 * checks them against deploy/permissions.json like the calls made through serverless offline.
 */
export async function asFunction<T>(
  name: string,
  env: { STAGE: string; EVENTS_TABLE: string; SECRETS_PATH?: string },
  run: () => Promise<T>,
): Promise<T> {
  const names = ['AWS_LAMBDA_FUNCTION_NAME', 'STAGE', 'EVENTS_TABLE', 'SECRETS_PATH'] as const;
  const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));
  Object.assign(process.env, env, {
    AWS_LAMBDA_FUNCTION_NAME: `okta-event-hooks-${env.STAGE}-${name}`,
  });
  try {
    return await run();
  } finally {
    for (const n of names)
      if (saved[n] === undefined) delete process.env[n];
      else process.env[n] = saved[n];
  }
}
