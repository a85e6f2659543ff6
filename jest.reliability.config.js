/**
 * The reliability suite (`npm run test:reliability`): load, faults, hostile input and auth
 * attacks against DynamoDB Local and a real serverless offline. Kept out of `npm test`;
 * RELIABILITY_PROFILE=ci (the default) is short, =full is the run in docs/reliability.md. One
 * file at a time: each starts its own stack, and the machine has two cores.
 */
const { jestTransforms } = require('./test/helpers/esm-to-cjs-transform');

module.exports = {
  testEnvironment: 'node',
  // ts-jest, and esbuild for the ESM-only dependencies (jose, openid-client...).
  ...jestTransforms,
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['<rootDir>/test/reliability/**/*.test.ts'],
  // A hang detector, not a budget: on a loaded 2-core machine the load test alone can take 15 min.
  testTimeout: 1800000,
  maxWorkers: 1,
  reporters: ['default', '<rootDir>/test/reliability/figures-reporter.js'],
};
