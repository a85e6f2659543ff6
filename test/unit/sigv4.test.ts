/**
 * The service's own SigV4 (lib/aws/sigv4.ts) against AWS's published test vector and against
 * the SDK's signer, @smithy/signature-v4, for the SSM call it makes.
 */
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { type AwsCredentials, amzDate, signedJsonPostHeaders } from '../../lib/aws/sigv4';

/** AWS's example credentials of the SigV4 test suite. */
const EXAMPLE = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};

class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash =
      secret === undefined
        ? createHash('sha256')
        : createHmac('sha256', typeof secret === 'string' ? secret : Buffer.from(secret as never));
  }
  update(data: string | ArrayBuffer | ArrayBufferView) {
    this.hash.update(typeof data === 'string' ? data : Buffer.from(data as never));
  }
  digest() {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

it('formats the signing time as AWS does', () => {
  expect(amzDate(new Date('2015-08-30T12:36:00.123Z'))).toBe('20150830T123600Z');
});

it("matches AWS's post-vanilla test vector", () => {
  const headers = signedJsonPostHeaders(new URL('https://example.amazonaws.com/'), {}, '', {
    region: 'us-east-1',
    service: 'service',
    credentials: EXAMPLE,
    now: new Date('2015-08-30T12:36:00Z'),
  });
  expect(headers.authorization).toBe(
    'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ' +
      'SignedHeaders=host;x-amz-date, ' +
      'Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b',
  );
});

it.each<[string, AwsCredentials]>([
  ['long-term credentials', EXAMPLE],
  [
    'temporary credentials, as Lambda has',
    { ...EXAMPLE, sessionToken: 'IQoJb3JpZ2luX2VjE//token==' },
  ],
])("signs SSM's GetParameters as the SDK's signer does: %s", async (_what, credentials) => {
  const now = new Date('2026-11-26T08:15:42Z');
  const body = JSON.stringify({ Names: ['/okta-event-hooks/production/x'], WithDecryption: true });
  const url = new URL('https://ssm.eu-central-1.amazonaws.com/');
  const ours = signedJsonPostHeaders(
    url,
    {
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': 'AmazonSSM.GetParameters',
      'content-length': String(Buffer.byteLength(body)),
    },
    body,
    { region: 'eu-central-1', service: 'ssm', credentials, now },
  );
  const { authorization, ...unsigned } = ours;
  const sdk = new SignatureV4({
    credentials,
    region: 'eu-central-1',
    service: 'ssm',
    sha256: Sha256 as never,
    applyChecksum: false,
  });
  const signed = await sdk.sign(
    {
      method: 'POST',
      protocol: 'https:',
      hostname: url.hostname,
      path: '/',
      query: {},
      headers: unsigned,
      body,
    },
    { signingDate: now },
  );
  expect(authorization).toBe(signed.headers.authorization);
  expect(ours['x-amz-security-token']).toBe(credentials.sessionToken);
});

it('refuses what it was not written for: another path or a query string', () => {
  const scope = { region: 'us-east-1', service: 'ssm', credentials: EXAMPLE };
  for (const url of [
    'https://ssm.us-east-1.amazonaws.com/x',
    'https://ssm.us-east-1.amazonaws.com/?a=1',
  ]) {
    expect(() => signedJsonPostHeaders(new URL(url), {}, '', scope)).toThrow(
      /only POST requests to "\/"/,
    );
  }
});
