/** The event browser's built files, provided at bundle time by deploy/ui-assets.js. */
declare module 'ui-assets' {
  const assets: import('./ui-assets').UiAssets;
  export default assets;
}
