/**
 * Realistic Okta System Log events and event hook envelopes, without an Okta org: used by
 * `npm run okta` and by the tests as fixture factories. Shapes follow Okta's samples
 * (test/fixtures/) and DESIGN.md §2; the people, groups and apps are a small fixed cast so that
 * ids stay consistent across events and runs.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';

export const EVENT_TYPES = [
  'user.lifecycle.create',
  'user.lifecycle.activate',
  'user.lifecycle.deactivate',
  'user.session.start',
  'user.authentication.sso',
  'user.account.update_profile',
  'user.account.update_password',
  'group.user_membership.add',
  'group.user_membership.remove',
  'application.user_membership.add',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}

export const ORG_DOMAIN = 'dev-31415926.okta.com';
export const EVENT_HOOK_ID = 'who7hphp39JoHLni81d7';

export type LogEvent = Record<string, unknown> & {
  uuid: string;
  published: string;
  eventType: string;
};

export interface OktaEnvelope extends Record<string, unknown> {
  eventType: 'com.okta.event_hook';
  eventId: string;
  data: { events: LogEvent[] };
}

interface Place {
  ip: string;
  city: string;
  state: string;
  country: string;
  postalCode: string;
  lat: number;
  lon: number;
  asNumber: number;
  asOrg: string;
  isp: string;
  domain: string;
}

export interface OktaUser {
  id: string;
  login: string;
  displayName: string;
  place: Place;
  browser: { rawUserAgent: string; os: string; browser: string };
}

export interface OktaGroup {
  id: string;
  name: string;
}

export interface OktaApp {
  id: string;
  name: string;
  label: string;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** An Okta-style 20-character id (`00u…`, `00g…`, `0oa…`), stable for the same seed. */
export function oktaId(prefix: string, seed: string): string {
  const hash = createHash('sha256').update(`${prefix}:${seed}`).digest();
  let body = '';
  for (let i = 0; body.length < 14; i++) body += BASE62[hash[i]! % 62];
  return `${prefix}${body}1d7`; // Okta ids end in a cell marker such as 1d6, 1d7, 5d7
}

/** Random id in the style of Okta request and transaction ids (`ZCCzm8j2wTvzwele2NwLnwAADSc`). */
function requestId(): string {
  return randomBytes(21).toString('base64url').slice(0, 27);
}

const PLACES: Place[] = [
  {
    ip: '142.126.158.61',
    city: 'Toronto',
    state: 'Ontario',
    country: 'Canada',
    postalCode: 'M4M',
    lat: 43.6567,
    lon: -79.34,
    asNumber: 577,
    asOrg: 'bell canada',
    isp: 'bell canada',
    domain: 'bell.ca',
  },
  {
    ip: '73.202.15.88',
    city: 'San Francisco',
    state: 'California',
    country: 'United States',
    postalCode: '94107',
    lat: 37.7697,
    lon: -122.3933,
    asNumber: 7922,
    asOrg: 'comcast',
    isp: 'comcast cable communications llc',
    domain: 'comcast.net',
  },
  {
    ip: '86.14.220.31',
    city: 'London',
    state: 'England',
    country: 'United Kingdom',
    postalCode: 'EC1A',
    lat: 51.5164,
    lon: -0.0931,
    asNumber: 5089,
    asOrg: 'virgin media',
    isp: 'virgin media limited',
    domain: 'virginmedia.com',
  },
  {
    ip: '91.64.118.7',
    city: 'Berlin',
    state: 'Land Berlin',
    country: 'Germany',
    postalCode: '10115',
    lat: 52.5321,
    lon: 13.3849,
    asNumber: 3209,
    asOrg: 'vodafone gmbh',
    isp: 'vodafone gmbh',
    domain: 'vodafone.de',
  },
];

const BROWSERS = [
  {
    rawUserAgent:
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    os: 'Mac OS X',
    browser: 'CHROME',
  },
  {
    rawUserAgent:
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0',
    os: 'Windows 10',
    browser: 'FIREFOX',
  },
  {
    rawUserAgent:
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
    os: 'iOS',
    browser: 'SAFARI',
  },
];

/** "jane.doe@hookdeckexample.com" → "Jane Doe". */
export function displayNameOf(login: string): string {
  const local = login.split('@')[0] ?? login;
  return local
    .split(/[._-]+/)
    .filter((part) => part !== '')
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join(' ');
}

/** The same login always gives the same user: id, home place and browser. */
export function userFromLogin(login: string): OktaUser {
  const n = createHash('sha256').update(login).digest()[0]!;
  return {
    id: oktaId('00u', login),
    login,
    displayName: displayNameOf(login),
    place: PLACES[n % PLACES.length]!,
    browser: BROWSERS[n % BROWSERS.length]!,
  };
}

export const ADMIN = userFromLogin('alex.admin@example.com');
export const USERS: readonly OktaUser[] = [
  'john.doe@example.com',
  'maria.garcia@example.com',
  'wei.chen@example.com',
  'priya.patel@example.com',
  'sam.taylor@example.com',
].map(userFromLogin);
export const GROUPS: readonly OktaGroup[] = ['Engineering', 'Sales', 'Support'].map((name) => ({
  id: oktaId('00g', name),
  name,
}));
export const APPS: readonly OktaApp[] = [
  { name: 'salesforce', label: 'Salesforce.com' },
  { name: 'slack', label: 'Slack' },
  { name: 'github_enterprise_cloud', label: 'GitHub Enterprise Cloud' },
].map((app) => ({ ...app, id: oktaId('0oa', app.name) }));
const DASHBOARD: OktaApp = {
  id: oktaId('0oa', 'dashboard'),
  name: 'okta_enduser',
  label: 'Okta Dashboard',
};

type Target = Record<string, unknown>;

function userTarget(user: OktaUser): Target {
  return {
    id: user.id,
    type: 'User',
    alternateId: user.login,
    displayName: user.displayName,
    detailEntry: null,
  };
}
function groupTarget(group: OktaGroup): Target {
  return {
    id: group.id,
    type: 'UserGroup',
    alternateId: 'unknown',
    displayName: group.name,
    detailEntry: null,
  };
}
function appTarget(app: OktaApp): Target {
  return {
    id: app.id,
    type: 'AppInstance',
    alternateId: app.label,
    displayName: app.label,
    detailEntry: { signOnModeType: 'SAML_2_0' },
  };
}
function appUserTarget(user: OktaUser, app: OktaApp): Target {
  return {
    id: oktaId('0ua', `${app.name}:${user.login}`),
    type: 'AppUser',
    alternateId: user.login,
    displayName: user.displayName,
    detailEntry: null,
  };
}

interface Picks {
  subject: OktaUser;
  group: OktaGroup;
  app: OktaApp;
}

/** Who did it (admin or the user themself), to whom, and which request made it. */
interface Template {
  displayMessage: string;
  legacyEventType: string;
  bySubject: boolean;
  targets(p: Picks): Target[];
  requestUri(p: Picks): string;
}

const TEMPLATES: Record<EventType, Template> = {
  'user.lifecycle.create': {
    displayMessage: 'Create Okta user',
    legacyEventType: 'core.user.config.user_created',
    bySubject: false,
    targets: (p) => [userTarget(p.subject)],
    requestUri: () => '/api/v1/users',
  },
  'user.lifecycle.activate': {
    displayMessage: 'Activate Okta user',
    legacyEventType: 'core.user.config.user_activated',
    bySubject: false,
    targets: (p) => [userTarget(p.subject)],
    requestUri: (p) => `/api/v1/users/${p.subject.id}/lifecycle/activate`,
  },
  'user.lifecycle.deactivate': {
    displayMessage: 'Deactivate Okta User',
    legacyEventType: 'core.user.config.user_deactivated',
    bySubject: false,
    targets: (p) => [userTarget(p.subject)],
    requestUri: (p) => `/admin/user/deactivate/${p.subject.id}`,
  },
  'user.session.start': {
    displayMessage: 'User login to Okta',
    legacyEventType: 'core.user_auth.login_success',
    bySubject: true,
    targets: (p) => [
      {
        id: oktaId('lae', `password:${p.subject.login}`),
        type: 'AuthenticatorEnrollment',
        alternateId: 'unknown',
        displayName: 'Password',
        detailEntry: null,
      },
      { ...appTarget(DASHBOARD), detailEntry: null },
    ],
    requestUri: () => '/idp/idx/identify',
  },
  'user.authentication.sso': {
    displayMessage: 'User single sign on to app',
    legacyEventType: 'app.auth.sso',
    bySubject: true,
    targets: (p) => [appTarget(p.app), appUserTarget(p.subject, p.app)],
    requestUri: (p) => `/app/${p.app.name}/${p.app.id}/sso/saml`,
  },
  'user.account.update_profile': {
    displayMessage: 'Update user profile for Okta',
    legacyEventType: 'core.user.config.profile_update.success',
    bySubject: true,
    targets: (p) => [userTarget(p.subject)],
    requestUri: () => '/api/v1/users/me',
  },
  'user.account.update_password': {
    displayMessage: 'User update password for Okta',
    legacyEventType: 'core.user.config.password_update.success',
    bySubject: true,
    targets: (p) => [userTarget(p.subject)],
    requestUri: () => '/idp/idx/challenge/answer',
  },
  'group.user_membership.add': {
    displayMessage: 'Add user to group membership',
    legacyEventType: 'core.user_group_member.user_add',
    bySubject: false,
    targets: (p) => [userTarget(p.subject), groupTarget(p.group)],
    requestUri: (p) => `/api/v1/groups/${p.group.id}/users/${p.subject.id}`,
  },
  'group.user_membership.remove': {
    displayMessage: 'Remove user from group membership',
    legacyEventType: 'core.user_group_member.user_remove',
    bySubject: false,
    targets: (p) => [userTarget(p.subject), groupTarget(p.group)],
    requestUri: (p) => `/api/v1/groups/${p.group.id}/users/${p.subject.id}`,
  },
  'application.user_membership.add': {
    displayMessage: 'Add user to application membership',
    legacyEventType: 'app.generic.provision.assign_user_to_app',
    bySubject: false,
    targets: (p) => [appUserTarget(p.subject, p.app), appTarget(p.app), userTarget(p.subject)],
    requestUri: (p) => `/api/v1/apps/${p.app.id}/users`,
  },
};

function geo(place: Place) {
  return {
    city: place.city,
    state: place.state,
    country: place.country,
    postalCode: place.postalCode,
    geolocation: { lat: place.lat, lon: place.lon },
  };
}

function ipChain(place: Place) {
  return [{ ip: place.ip, geographicalContext: geo(place), version: 'V4', source: null }];
}

// System Log uuids are time-based (version 1), e.g. f1d0b993-cc19-11ed-a688-db22c99ef6c4.
const UUID_EPOCH_OFFSET_MS = 12_219_292_800_000n; // 1582-10-15 to 1970-01-01
const uuidNode = randomBytes(6);
uuidNode[0]! |= 0x01; // multicast bit: a random node, not a MAC address
const uuidClockSeq = randomBytes(2).readUInt16BE() & 0x3fff;
let uuidLastTicks = 0n;

/** A version-1 uuid for `time`, unique within this process even for equal times. */
export function timeUuid(time: Date): string {
  let ticks = (BigInt(time.getTime()) + UUID_EPOCH_OFFSET_MS) * 10_000n;
  if (ticks <= uuidLastTicks) ticks = uuidLastTicks + 1n;
  uuidLastTicks = ticks;
  const low = (ticks & 0xffffffffn).toString(16).padStart(8, '0');
  const mid = ((ticks >> 32n) & 0xffffn).toString(16).padStart(4, '0');
  const high = (((ticks >> 48n) & 0x0fffn) | 0x1000n).toString(16).padStart(4, '0');
  const seq = (uuidClockSeq | 0x8000).toString(16).padStart(4, '0');
  return `${low}-${mid}-${high}-${seq}-${uuidNode.toString('hex')}`;
}

export interface EventOptions {
  /** When it happened; default now. */
  published?: Date;
  /** The user the event is about (target, or actor of self-service events); default a cast member. */
  user?: OktaUser;
  /** Chooses cast members; inject for repeatable output. */
  random?: () => number;
}

function pick<T>(list: readonly T[], random: () => number): T {
  return list[Math.floor(random() * list.length)]!;
}

/** One System Log event of `type`, shaped like Okta's (every nullable object present). */
export function oktaEvent(type: EventType, options: EventOptions = {}): LogEvent {
  const random = options.random ?? Math.random;
  const picks: Picks = {
    subject: options.user ?? pick(USERS, random),
    group: pick(GROUPS, random),
    app: pick(APPS, random),
  };
  const template = TEMPLATES[type];
  const actorUser = template.bySubject ? picks.subject : ADMIN;
  const published = options.published ?? new Date();
  const id = requestId();
  const uri = template.requestUri(picks);
  const place = actorUser.place;
  return {
    actor: {
      id: actorUser.id,
      type: 'User',
      alternateId: actorUser.login,
      displayName: actorUser.displayName,
      detailEntry: null,
    },
    client: {
      userAgent: actorUser.browser,
      zone: 'null',
      device: actorUser.browser.os === 'iOS' ? 'Mobile' : 'Computer',
      id: null,
      ipAddress: place.ip,
      geographicalContext: geo(place),
    },
    device: null,
    authenticationContext: {
      authenticationProvider: null,
      credentialProvider: null,
      credentialType: null,
      issuer: null,
      interface: null,
      authenticationStep: 0,
      externalSessionId: `idx${randomBytes(17).toString('base64url').slice(0, 22)}`,
    },
    displayMessage: template.displayMessage,
    eventType: type,
    outcome: { result: 'SUCCESS', reason: null },
    published: published.toISOString(),
    securityContext: {
      asNumber: place.asNumber,
      asOrg: place.asOrg,
      isp: place.isp,
      domain: place.domain,
      isProxy: false,
    },
    severity: 'INFO',
    debugContext: {
      debugData: {
        requestId: id,
        requestUri: uri,
        threatSuspected: 'false',
        url: `${uri}?`,
      },
    },
    legacyEventType: template.legacyEventType,
    transaction: { type: 'WEB', id, detail: {} },
    uuid: timeUuid(published),
    version: '0',
    request: { ipChain: ipChain(place) },
    target: template.targets(picks),
    insertionTimestamp: null,
  };
}

export interface EventsOptions {
  /** Types in turn, round robin. */
  types: readonly EventType[];
  count: number;
  /** Login of the user every event is about (see EventOptions.user). */
  user?: string;
  random?: () => number;
  /** The moment the last event happened; default now. */
  until?: Date;
}

/** `count` events, `published` a few hundred ms apart in order, the last at `until`. */
export function oktaEvents(options: EventsOptions): LogEvent[] {
  const random = options.random ?? Math.random;
  const until = (options.until ?? new Date()).getTime();
  const user = options.user === undefined ? undefined : userFromLogin(options.user);
  let time = until;
  const times = Array.from({ length: options.count }, () => {
    const t = time;
    time -= 100 + Math.floor(random() * 400);
    return new Date(t);
  }).reverse();
  return times.map((published, i) =>
    oktaEvent(options.types[i % options.types.length]!, { published, user, random }),
  );
}

/** Wraps events in Okta's delivery envelope; `eventId` is new for each delivery. */
export function oktaEnvelope(
  events: LogEvent[],
  overrides: Partial<OktaEnvelope> = {},
): OktaEnvelope {
  return {
    eventType: 'com.okta.event_hook',
    eventTypeVersion: '1.0',
    cloudEventsVersion: '0.1',
    source: `https://${ORG_DOMAIN}/api/v1/eventHooks/${EVENT_HOOK_ID}`,
    eventId: randomUUID(),
    eventTime: new Date().toISOString(),
    contentType: 'application/json',
    data: { events },
    ...overrides,
  };
}

/**
 * What the Admin Console's "Preview" sends: sample data with no actor or target and Okta's
 * mixed-case `outcome.result`. The uuid is fresh each time, so each preview is stored.
 */
export function previewEvent(type: EventType, published = new Date()): LogEvent {
  return {
    uuid: randomUUID(),
    published: published.toISOString(),
    eventType: type,
    version: '0',
    displayMessage: TEMPLATES[type].displayMessage,
    severity: 'INFO',
    client: {
      userAgent: { rawUserAgent: 'Sample user agent', os: 'Unknown', browser: 'UNKNOWN' },
      zone: null,
      device: 'Unknown',
      id: null,
      ipAddress: '0.0.0.0',
      geographicalContext: null,
    },
    device: null,
    actor: null,
    outcome: { result: 'Success', reason: null },
    target: null,
    transaction: { type: 'WEB', id: 'sample-transaction-id', detail: {} },
    debugContext: { debugData: {} },
    legacyEventType: TEMPLATES[type].legacyEventType,
    authenticationContext: null,
    securityContext: null,
    request: { ipChain: [] },
    insertionTimestamp: null,
  };
}

export function previewEnvelope(types: readonly EventType[]): OktaEnvelope {
  return oktaEnvelope(types.map((type) => previewEvent(type)));
}
