/**
 * AWS Signature Version 4 for one kind of request: a POST of a JSON body to "/" with no query
 * string, which is every call of an AWS JSON protocol service (SSM's GetParameters among them).
 * Written on node:crypto rather than taken from @smithy/signature-v4 because that package loads
 * 140 KB of @smithy/core on a cold start to read two secrets (docs/performance.md, "Cold start").
 * The algorithm: docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html;
 * the tests check it against AWS's own example and against @smithy/signature-v4.
 */
import { createHash, createHmac } from 'node:crypto';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Temporary credentials (Lambda's role) come with one. */
  sessionToken?: string;
}

export interface SigningScope {
  region: string;
  service: string;
  credentials: AwsCredentials;
  /** Signing time; the request is refused by AWS if it is more than 5 minutes off. */
  now?: Date;
}

const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string) =>
  createHmac('sha256', key).update(data, 'utf8').digest();

/** 20260101T120000Z */
export function amzDate(now: Date): string {
  return now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/**
 * The headers to send with a POST of `body` to `url` (path "/", no query): the caller's headers,
 * plus host, x-amz-date, x-amz-security-token (with temporary credentials) and authorization.
 * Every header passed in is signed; header names are lower-cased.
 */
export function signedJsonPostHeaders(
  url: URL,
  headers: Record<string, string>,
  body: string,
  scope: SigningScope,
): Record<string, string> {
  if (url.pathname !== '/' || url.search !== '') {
    throw new Error('signedJsonPostHeaders signs only POST requests to "/" with no query string');
  }
  const { credentials, region, service } = scope;
  const date = amzDate(scope.now ?? new Date());
  const all: Record<string, string> = { host: url.host, 'x-amz-date': date };
  if (credentials.sessionToken) all['x-amz-security-token'] = credentials.sessionToken;
  for (const [name, value] of Object.entries(headers)) all[name.toLowerCase()] = value;

  const names = Object.keys(all).sort();
  const canonicalHeaders = names
    .map((name) => `${name}:${all[name]!.trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const signedHeaders = names.join(';');
  const canonicalRequest = ['POST', '/', '', canonicalHeaders, signedHeaders, sha256Hex(body)].join(
    '\n',
  );
  const credentialScope = `${date.slice(0, 8)}/${region}/${service}/aws4_request`;
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    date,
    credentialScope,
    sha256Hex(canonicalRequest),
  ].join('\n');
  let key: Buffer = hmac(`AWS4${credentials.secretAccessKey}`, date.slice(0, 8));
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  return {
    ...all,
    authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${credentialScope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}
