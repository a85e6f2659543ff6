/** Unit tests run in-process; integration and e2e tests start DynamoDB Local and serverless offline themselves. */
const transform = {
  '^.+\\.ts$': 'ts-jest',
  // ESM-only dependencies, compiled to CommonJS for jest (test/helpers/esm-to-cjs-transform.js).
  '/node_modules/(jose|openid-client|oauth4webapi|oauth2-mock-server|basic-auth)/.+\\.m?js$':
    '<rootDir>/test/helpers/esm-to-cjs-transform.js',
};
// Jest skips node_modules unless told otherwise: transform only the ESM-only packages above.
const transformIgnorePatterns = [
  '/node_modules/(?!(jose|openid-client|oauth4webapi|oauth2-mock-server|basic-auth)/)',
];
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
