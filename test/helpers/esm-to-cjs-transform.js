'use strict';
/**
 * Jest transform for the ESM-only packages the service imports (jose, openid-client and its
 * oauth4webapi): jest's CommonJS runtime cannot require() them without
 * --experimental-vm-modules, so their files are compiled to CommonJS with esbuild, which the
 * build already uses. Lambda bundles (serverless-esbuild) and tsx need no such step.
 */
const { transformSync } = require('esbuild');

module.exports = {
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
