/** esbuild plugins for the functions' bundles (serverless.yml custom.esbuild.plugins). */
const { uiAssetsPlugin } = require('./ui-assets');

module.exports = [uiAssetsPlugin];
