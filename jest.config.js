/** Unit tests run in-process; integration and e2e tests start DynamoDB Local and serverless offline themselves. */
// ts-jest, and esbuild for the ESM-only dependencies (jose, openid-client...).
const { transform, transformIgnorePatterns } =
  require('./test/helpers/esm-to-cjs-transform').jestTransforms;
const common = {
  testEnvironment: 'node',
  transform,
  transformIgnorePatterns,
  moduleFileExtensions: ['ts', 'js', 'json'],
  setupFilesAfterEnv: ['<rootDir>/test/helpers/aws-calls-test-name.ts'],
};

module.exports = {
  // Global: per-project testTimeout is ignored. DynamoDB Local and serverless offline take
  // seconds to start on a loaded 2-core machine.
  testTimeout: 120000,
  // Records every AWS call the tests make; after the last file, fails the run on a call that
  // deploy/permissions.json does not allow (docs/deploying.md, "Permission manifest").
  transform,
  transformIgnorePatterns,
  globalSetup: '<rootDir>/test/helpers/aws-calls-global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/aws-calls-global-teardown.ts',
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
    },
  ],
};
