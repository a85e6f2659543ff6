/**
 * The read API seen from outside: the CLI (and replay) use it to read a deployed stage exactly
 * as they read the local table. Event JSON is taken from the response text as sent, not
 * re-serialised, so it stays exact.
 */
import { assertCredentialSafe } from '../config';
import type { DeliveryQuery, DeliveryRecord } from '../store/delivery-queries';
import type { EventQuery } from '../store/keyed-query';
import type { Page } from '../store/query-parameters';
import { arrayElementTexts } from '../okta/json-text';
import type { OutcomeQuery } from '../reactions/outcome-queries';
import type { ReactionOutcome } from '../reactions/outcomes';

export class ReadApiError extends Error {
  override name = 'ReadApiError';
}

/** A bearer token, or where to get one for each request (read-api-credentials.ts). */
export type ReadApiToken = string | { authorization(): Promise<string> } | undefined;

export class ReadApiClient {
  /** `name`: where the user gave the URL, for the error when it is not one (or not https). */
  constructor(
    readonly baseUrl: string,
    readonly token: ReadApiToken,
    name = '--url (or EVENTS_API_URL)',
  ) {
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch {
      throw new ReadApiError(`${name} must be the read API's URL, got "${baseUrl.slice(0, 200)}"`);
    }
    // The bearer token goes with every request: never in clear text off this machine.
    try {
      assertCredentialSafe(url, name, baseUrl.slice(0, 200));
    } catch (error) {
      throw new ReadApiError((error as Error).message);
    }
  }

  private async get(
    path: string,
    params: Record<string, string | number | undefined>,
  ): Promise<Response | undefined> {
    const url = new URL(path, this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`);
    for (const [name, value] of Object.entries(params)) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const authorization =
      typeof this.token === 'string' ? `Bearer ${this.token}` : await this.token?.authorization();
    let response: Response;
    try {
      response = await fetch(url, {
        headers: {
          accept: 'application/json',
          ...(authorization ? { authorization } : {}),
        },
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw new ReadApiError(
        `cannot reach ${url.origin}: ${(error as Error).cause ?? (error as Error).message}`,
      );
    }
    // No such event or delivery: the caller says so in its own words.
    if (response.status === 404 && /^(events|deliveries)\//.test(path)) return undefined;
    if (!response.ok) {
      const body = (await response.json().catch(() => ({}))) as { message?: string };
      throw new ReadApiError(
        `${url.origin} answered ${response.status}: ${body.message ?? response.statusText}`,
      );
    }
    return response;
  }

  async getEventJson(uuid: string): Promise<string | undefined> {
    const response = await this.get(`events/${encodeURIComponent(uuid)}`, {});
    return response && (await response.text());
  }

  /** One delivery's record and its body as received; undefined when no such delivery. */
  async getDelivery(id: string): Promise<(DeliveryRecord & { body: string }) | undefined> {
    const response = await this.get(`deliveries/${encodeURIComponent(id)}`, {});
    if (!response) return undefined;
    const text = await response.text();
    let record: DeliveryRecord & { body?: unknown };
    try {
      record = JSON.parse(text);
    } catch {
      throw new ReadApiError('the read API answered a delivery that is not JSON');
    }
    if (typeof record?.deliveryId !== 'string' || typeof record.body !== 'string') {
      throw new ReadApiError(
        'the read API answered a delivery without its "deliveryId" and "body"',
      );
    }
    return record as DeliveryRecord & { body: string };
  }

  async listEvents(query: EventQuery): Promise<Page<string>> {
    const { type, user, since, until, limit, cursor } = query;
    const text = await (await this.get('events', {
      type,
      user,
      since,
      until,
      limit,
      cursor,
    }))!.text();
    const items = arrayElementTexts(text, ['events']);
    if (!items) throw new ReadApiError('the read API answered without an "events" array');
    return { items, nextCursor: (JSON.parse(text) as { nextCursor: string | null }).nextCursor };
  }

  async listDeliveries(query: DeliveryQuery): Promise<Page<DeliveryRecord>> {
    const response = await this.get('deliveries', { ...query });
    const body = (await response!.json()) as {
      deliveries: DeliveryRecord[];
      nextCursor: string | null;
    };
    return { items: body.deliveries, nextCursor: body.nextCursor };
  }

  async listReactions(query: OutcomeQuery): Promise<Page<ReactionOutcome>> {
    const response = await this.get('reactions', { ...query });
    const body = (await response!.json()) as {
      reactions: ReactionOutcome[];
      nextCursor: string | null;
    };
    return { items: body.reactions, nextCursor: body.nextCursor };
  }

  /** The outcomes of one event; undefined when no such event is stored. */
  async eventReactions(uuid: string): Promise<ReactionOutcome[] | undefined> {
    const response = await this.get(`events/${encodeURIComponent(uuid)}/reactions`, {});
    return response && ((await response.json()) as { reactions: ReactionOutcome[] }).reactions;
  }
}
