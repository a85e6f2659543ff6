/**
 * Signed-out event browser sessions (lib/http/session.ts): one item per session id, kept until
 * the cookie would have expired anyway (`expiresAt`, the table's TTL attribute). A cookie
 * copied before sign-out is refused from then on.
 *
 * Sessions signed in with Okta keep their ID token here, for the logout's id_token_hint: it is
 * over 1 KB, and the session cookie must stay well under browsers' 4 KB. Each Okta sign-in flow
 * also marks its `state` used here, so a flow cookie and code cannot be played twice.
 *
 * Items: pk `SESSION#<id>`, sk `REVOKED` or `ID_TOKEN`; pk `SIGN_IN#<state>`, sk `USED`; all with
 * the TTL attribute `expiresAt`. Neither stream function reads them (their filters take DELIVERY
 * and EVENT items only). Calls: PutItem (the ui function, at sign-in and sign-out), GetItem
 * (the ui and readApi functions, on each request signed in by cookie; the ui at sign-out).
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
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

  /** Keeps an Okta session's ID token until the session ends (the logout's id_token_hint). */
  async saveIdToken(sessionId: string, idToken: string, expiresAt: number): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          pk: { S: `SESSION#${sessionId}` },
          sk: { S: 'ID_TOKEN' },
          idToken: { S: idToken },
          expiresAt: { N: String(expiresAt) },
        },
      }),
    );
  }

  async idTokenOf(sessionId: string): Promise<string | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: `SESSION#${sessionId}` }, sk: { S: 'ID_TOKEN' } },
        ConsistentRead: true,
      }),
    );
    return Item?.idToken?.S;
  }

  /** True the first time a sign-in flow's `state` is presented, false ever after. */
  async claimSignInState(state: string, expiresAt: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            pk: { S: `SIGN_IN#${state}` },
            sk: { S: 'USED' },
            expiresAt: { N: String(expiresAt) },
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** 401 when the request's session cookie (already verified) was signed out. */
  async assertNotRevoked(headers: Record<string, string>): Promise<void> {
    const sessionId = sessionIdOf(sessionCookie(headers.cookie) ?? '');
    if (sessionId !== undefined && (await this.isRevoked(sessionId))) {
      throw new RequestError(401, 'unauthorized', 'This session was signed out: sign in again.');
    }
  }
}
