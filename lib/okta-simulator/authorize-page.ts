/**
 * The HTML pages of the fake org's authorization server (authorization-server.ts): the login
 * form of `/v1/authorize`, and the error and signed-out pages Okta shows where it cannot
 * redirect. Every value from a request is escaped.
 */

export interface LoginChoice {
  login: string;
  name: string;
  groups: string[];
  denied: boolean;
}

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}' +
  'button{display:block;width:100%;margin:.5rem 0;padding:.6rem;text-align:left;cursor:pointer}' +
  'small{color:#555}';

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

function page(title: string, body: string): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style>` +
    `</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`
  );
}

/**
 * A button per user; the form posts back to the same endpoint with the original parameters, so
 * every check of the GET is made again on the POST.
 */
export function loginPage(
  action: string,
  params: URLSearchParams,
  appName: string,
  users: LoginChoice[],
): string {
  const hidden = [...params]
    .filter(([name]) => name !== 'login')
    .map(
      ([name, value]) =>
        `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`,
    )
    .join('');
  const buttons = users
    .map(
      (u) =>
        `<button type="submit" name="login" value="${escapeHtml(u.login)}">` +
        `${escapeHtml(u.name)} &lt;${escapeHtml(u.login)}&gt;<br>` +
        `<small>${escapeHtml(u.groups.join(', ') || 'no groups')}` +
        `${u.denied ? ' · not assigned to the app' : ''}</small></button>`,
    )
    .join('');
  return page(
    'Sign in to the fake Okta org',
    `<p>Signing in to <strong>${escapeHtml(appName)}</strong>. Choose a user (no password: ` +
      `this is a local fake).</p><form method="post" action="${escapeHtml(action)}">` +
      `${hidden}${buttons}</form>`,
  );
}

export function errorPage(summary: string): string {
  return page('Fake Okta org: error', `<p>${escapeHtml(summary)}</p>`);
}

export function signedOutPage(): string {
  return page('Signed out', '<p>You are signed out of the fake Okta org.</p>');
}
