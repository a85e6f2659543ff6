/**
 * Signed-out event browser sessions (lib/http/session.ts): one item per session id, kept until
 * the cookie would have expired anyway (`expiresAt`, the table's TTL attribute). A cookie
 * copied before sign-out is refused from then on.
 *
 * Items: pk `SESSION#<id>`, sk `REVOKED`. Neither stream function reads them (their filters
 * take DELIVERY and EVENT items only). Calls: PutItem (the ui function, at sign-out), GetItem
 * (the ui and readApi functions, on each request signed in by cookie).
 */
import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { RequestError } from '../errors';
import { sessionCookie, sessionIdOf } from '../http/session';

const key = (sessionId: string) => ({ pk: { S: `SESSION#${sessionId}` }, sk: { S: 'REVOKED' } });

export class SessionRevocations {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async revoke(sessionId: string, expiresAt: number): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: { ...key(sessionId), expiresAt: { N: String(expiresAt) } },
      }),
    );
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: key(sessionId), ConsistentRead: true }),
    );
    return Item !== undefined;
  }

  /** 401 when the request's session cookie (already verified) was signed out. */
  async assertNotRevoked(headers: Record<string, string>): Promise<void> {
    const sessionId = sessionIdOf(sessionCookie(headers.cookie) ?? '');
    if (sessionId !== undefined && (await this.isRevoked(sessionId))) {
      throw new RequestError(401, 'unauthorized', 'This session was signed out: sign in again.');
    }
  }
}
