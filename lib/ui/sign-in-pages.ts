/**
 * The HTML pages the sign-in routes answer with when they cannot sign the browser in: a title,
 * one message, and a link to try again. Everything shown is escaped; no stack, no token.
 */
import type { HttpResponse } from '../http/http';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** A page at /ui/<route>: its links are relative to /ui/ (the style sheet, login, the browser). */
export function signInPage(
  statusCode: number,
  page: { title: string; message: string; tryAgain: boolean; assetsVersion: string },
): HttpResponse {
  const title = escapeHtml(page.title);
  const links = [
    page.tryAgain ? '<a class="button" href="login">Try again</a>' : '',
    '<a href="../ui">Back to the event browser</a>',
  ].join(' ');
  const body = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${title} - Okta events</title>
    <link rel="stylesheet" href="assets/app.css?v=${escapeHtml(page.assetsVersion)}" />
  </head>
  <body>
    <header class="topbar"><h1>Okta events</h1></header>
    <main class="sign-in">
      <section class="sign-in-problem">
        <h2>${title}</h2>
        <p id="sign-in-problem" role="alert">${escapeHtml(page.message)}</p>
        <p>${links}</p>
      </section>
    </main>
  </body>
</html>
`;
  return {
    statusCode,
    headers: { 'content-type': 'text/html; charset=utf-8' },
    body,
  };
}
