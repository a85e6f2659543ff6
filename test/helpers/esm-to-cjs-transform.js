'use strict';
/**
 * Jest transform for the ESM-only packages the service imports (jose, openid-client and its
 * oauth4webapi): jest's CommonJS runtime cannot require() them without
 * --experimental-vm-modules, so their files are compiled to CommonJS with esbuild, which the
 * build already uses. Lambda bundles (serverless-esbuild) and tsx need no such step.
 */
const { transformSync } = require('esbuild');

/** The ESM-only packages, as a regex alternation. */
const ESM_PACKAGES = 'jose|openid-client|oauth4webapi|oauth2-mock-server|basic-auth';

/** jest `transform` and `transformIgnorePatterns` for every jest config of the project. */
const jestTransforms = {
  transform: {
    '^.+\\.ts$': 'ts-jest',
    [`/node_modules/(${ESM_PACKAGES})/.+\\.m?js$`]:
      '<rootDir>/test/helpers/esm-to-cjs-transform.js',
  },
  // Jest skips node_modules unless told otherwise: transform only the ESM-only packages above.
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_PACKAGES})/)`],
};

module.exports = {
  jestTransforms,
  process(sourceText, sourcePath) {
    const { code, map } = transformSync(sourceText, {
      format: 'cjs',
      loader: 'js',
      target: 'node20',
      sourcefile: sourcePath,
      sourcemap: 'inline',
    });
    return { code, map };
  },
};
