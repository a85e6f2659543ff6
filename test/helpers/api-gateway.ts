/** API Gateway events as HTTP API (payload v2) and REST API (payload v1) deliver them. */
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';

export interface RequestSpec {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  base64?: boolean;
}

function encodeBody(spec: RequestSpec): { body: string | undefined; isBase64Encoded: boolean } {
  if (spec.body === undefined) return { body: undefined, isBase64Encoded: false };
  const bytes = Buffer.isBuffer(spec.body) ? spec.body : Buffer.from(spec.body, 'utf8');
  return spec.base64
    ? { body: bytes.toString('base64'), isBase64Encoded: true }
    : { body: bytes.toString('utf8'), isBase64Encoded: false };
}

let counter = 0;

export function v2Event(spec: RequestSpec): APIGatewayProxyEventV2 {
  const method = spec.method ?? 'POST';
  const path = spec.path ?? '/okta-webhooks-endpoint';
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.headers ?? {})) headers[k.toLowerCase()] = v;
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'example.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'example',
      http: {
        method,
        path,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'Okta-Integrations',
      },
      requestId: `test-${++counter}`,
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: '26/Nov/2026:00:00:00 +0000',
      timeEpoch: 0,
    },
    ...encodeBody(spec),
  };
}

/** REST API events keep the caller's header casing and list repeated headers separately. */
export function v1Event(
  spec: RequestSpec & { multiValueHeaders?: Record<string, string[]> },
): APIGatewayProxyEvent {
  const method = spec.method ?? 'POST';
  const path = spec.path ?? '/okta-webhooks-endpoint';
  const headers = { ...(spec.headers ?? {}) };
  const multiValueHeaders =
    spec.multiValueHeaders ?? Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]]));
  const { body, isBase64Encoded } = encodeBody(spec);
  return {
    httpMethod: method,
    path,
    resource: path,
    headers,
    multiValueHeaders,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: body ?? null,
    isBase64Encoded,
    requestContext: {
      requestId: `test-v1-${++counter}`,
      identity: { sourceIp: '127.0.0.1' },
    } as APIGatewayProxyEvent['requestContext'],
  };
}
