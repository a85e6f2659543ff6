/**
 * Builds the event browser (lib/ui/client/) into the strings the `ui` function serves: the
 * page, its script and style (esbuild: bundled, minified, no source map, nothing fetched from
 * elsewhere) and its icon. `uiAssetsPlugin` hands them to the function's own esbuild build as
 * the module `ui-assets` (handlers/ui.ts), so they ship inside its bundle.
 */
const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { basename, join, resolve } = require('node:path');
const esbuild = require('esbuild');

const ROOT = resolve(__dirname, '..');
const CLIENT = join(ROOT, 'lib/ui/client');
const CONTENT_TYPES = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

function contentType(name) {
  return CONTENT_TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream';
}

/** { version, html, files: { 'app.js': { contentType, body }, ... }, inputs: [paths] } */
async function buildUiAssets() {
  const result = await esbuild.build({
    entryPoints: { app: join(CLIENT, 'main.ts') },
    bundle: true,
    minify: true,
    format: 'iife',
    // Browsers of the last few years: CSS nesting and modern JS need no down-levelling.
    target: ['chrome111', 'edge111', 'firefox114', 'safari16.4'],
    tsconfig: join(CLIENT, 'tsconfig.json'),
    outdir: join(ROOT, '.esbuild/ui'),
    write: false,
    legalComments: 'none',
    charset: 'utf8',
    metafile: true,
    logLevel: 'silent',
  });
  const files = {};
  for (const output of result.outputFiles) {
    const name = basename(output.path);
    files[name] = { contentType: contentType(name), body: output.text };
  }
  files['icon.svg'] = {
    contentType: contentType('icon.svg'),
    body: readFileSync(join(CLIENT, 'icon.svg'), 'utf8'),
  };
  const hash = createHash('sha256');
  for (const name of Object.keys(files).sort()) hash.update(name).update(files[name].body);
  const version = hash.digest('hex').slice(0, 16);
  const html = readFileSync(join(CLIENT, 'index.html'), 'utf8').replaceAll('%VERSION%', version);
  const inputs = Object.keys(result.metafile.inputs).map((path) => resolve(ROOT, path));
  return { version, html, files, inputs };
}

/** esbuild plugin: `import assets from 'ui-assets'` gets the built page and files. */
const uiAssetsPlugin = {
  name: 'ui-assets',
  setup(build) {
    build.onResolve({ filter: /^ui-assets$/ }, () => ({
      path: 'ui-assets',
      namespace: 'ui-assets',
    }));
    build.onLoad({ filter: /.*/, namespace: 'ui-assets' }, async () => {
      const { inputs, ...assets } = await buildUiAssets();
      return {
        contents: `export default ${JSON.stringify(assets)};`,
        loader: 'js',
        watchFiles: [...inputs, join(CLIENT, 'index.html'), join(CLIENT, 'icon.svg')],
      };
    });
  },
};

module.exports = { buildUiAssets, uiAssetsPlugin };
