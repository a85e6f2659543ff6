/**
 * The people of the fake org's authorization server (authorization-server.ts): who can sign in,
 * their groups, and the `--users` file of `npm run okta -- serve`.
 */
import { createHash } from 'node:crypto';

export interface FakeUser {
  login: string;
  name?: string;
  groups: string[];
  /** The user is not assigned to the app: authorize answers error=access_denied. */
  denied?: boolean;
}

export const DEFAULT_FAKE_USERS: FakeUser[] = [
  {
    login: 'alice@example.com',
    name: 'Alice Example',
    groups: ['Everyone', 'okta-events-readers'],
  },
  { login: 'bob@example.com', name: 'Bob Example', groups: ['Everyone'] },
  {
    login: 'carol@example.com',
    name: 'Carol Example',
    groups: ['Everyone', 'okta-events-readers'],
  },
];

export interface ResolvedUser extends Required<FakeUser> {
  /** Okta's user id (00u…), the ID token's `sub` and the access token's `uid`. */
  uid: string;
}

/** Okta-style stable user id for a login: the same across restarts of the fake org. */
function userId(login: string): string {
  return `00u${createHash('sha256').update(login).digest('hex').slice(0, 17)}`;
}

export function resolveUser(user: FakeUser): ResolvedUser {
  const local = user.login.split('@')[0] ?? user.login;
  return {
    login: user.login,
    name: user.name ?? local.charAt(0).toUpperCase() + local.slice(1),
    groups: [...user.groups],
    denied: user.denied === true,
    uid: userId(user.login),
  };
}

/** Parses a `--users` file: `[{"login", "name"?, "groups": [...], "denied"?}]`; one-line errors. */
export function parseFakeUsers(text: string): FakeUser[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('not JSON: expected [{"login": "...", "name": "...", "groups": ["..."]}]');
  }
  if (!Array.isArray(value) || value.length === 0) {
    throw new Error('expected a non-empty JSON array of users');
  }
  const logins = new Set<string>();
  return value.map((entry: unknown, i) => {
    const user = entry as Partial<Record<keyof FakeUser, unknown>> | null;
    const where = `user ${i + 1}`;
    if (typeof user !== 'object' || user === null) throw new Error(`${where} is not an object`);
    if (typeof user.login !== 'string' || !/^\S+@\S+$/.test(user.login)) {
      throw new Error(`${where}: "login" must be an email-like login such as alice@example.com`);
    }
    if (logins.has(user.login)) throw new Error(`${where}: login ${user.login} appears twice`);
    logins.add(user.login);
    if (user.name !== undefined && typeof user.name !== 'string') {
      throw new Error(`${where} (${user.login}): "name" must be a string`);
    }
    const groups = user.groups ?? [];
    if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string' && g !== '')) {
      throw new Error(`${where} (${user.login}): "groups" must be an array of group names`);
    }
    if (user.denied !== undefined && typeof user.denied !== 'boolean') {
      throw new Error(`${where} (${user.login}): "denied" must be true or false`);
    }
    return { login: user.login, name: user.name, groups, denied: user.denied };
  });
}
