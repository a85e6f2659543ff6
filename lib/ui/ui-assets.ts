/**
 * The event browser's files as the handler serves them. They are built by esbuild from
 * lib/ui/client/ (deploy/ui-assets.js) into the `ui` function's own bundle, so the page needs
 * no CDN, no other host and no file system at run time.
 */
export interface UiAsset {
  contentType: string;
  body: string;
}

export interface UiAssets {
  /** Hash of every file: the HTML asks for `?v=<version>`, which may then be cached for good. */
  version: string;
  /** The page itself (GET /ui). */
  html: string;
  /** By file name, served at /ui/assets/<name>. */
  files: Record<string, UiAsset>;
}
