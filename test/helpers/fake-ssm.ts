/**
 * A small SSM Parameter Store speaking the real JSON 1.1 protocol (POST /, X-Amz-Target:
 * AmazonSSM.GetParameter(s), PutParameter), so the SDK client and the service's own signed call run unchanged
 * against it. Like SSM it refuses a request whose SigV4 signature is wrong, checked with the
 * SDK's own signer (@smithy/signature-v4) and the fixed credentials local/local. Its `fail` and
 * `hang` switches inject the faults a real SSM cannot be made to produce on demand: an outage,
 * and an endpoint that accepts the connection and never answers.
 */
import { createHash, createHmac } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';

export interface FakeSsm {
  endpoint: string;
  /** Parameter name -> SecureString value; edit it to simulate a rotation. */
  parameters: Map<string, string>;
  /** Every request's target and parameter names, in order. */
  requests: { target: string; names: string[] }[];
  /** While true, every request is answered 500 InternalServerError. */
  fail: boolean;
  /** While true, requests are read and never answered (until stop()). */
  hang: boolean;
  stop(): Promise<void>;
}

/** The SDK signer's hash interface, on node:crypto. */
type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (data: SourceData) =>
  typeof data === 'string'
    ? Buffer.from(data)
    : ArrayBuffer.isView(data)
      ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      : Buffer.from(data);
class Sha256 {
  private readonly hash;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData) {
    this.hash.update(bytes(data));
  }
  digest() {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

/**
 * True when `authorization` is the signature the SDK's signer computes for this request (a POST
 * to "/" for `service`); the fake CloudFormation uses it too.
 */
export async function validSignature(
  req: import('node:http').IncomingMessage,
  body: string,
  service = 'ssm',
): Promise<boolean> {
  const match = new RegExp(
    `^AWS4-HMAC-SHA256 Credential=local/(\\d{8})/([^/]+)/${service}/aws4_request, SignedHeaders=([^,]+), Signature=[0-9a-f]{64}$`,
  ).exec(String(req.headers.authorization ?? ''));
  const date = String(req.headers['x-amz-date'] ?? '');
  if (!match || !/^\d{8}T\d{6}Z$/.test(date)) return false;
  const headers: Record<string, string> = {};
  for (const name of match[3]!.split(';')) headers[name] = String(req.headers[name] ?? '');
  const signer = new SignatureV4({
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    region: match[2]!,
    service,
    sha256: Sha256,
    applyChecksum: false, // x-amz-content-sha256 is S3's; signed here only when the client sent it
  });
  const signed = await signer.sign(
    { method: 'POST', protocol: 'http:', hostname: '', path: '/', query: {}, headers, body },
    {
      signingDate: new Date(
        date.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
      ),
      signableHeaders: new Set(Object.keys(headers)),
    },
  );
  return signed.headers.authorization === req.headers.authorization;
}

function reply(res: import('node:http').ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
  res.end(JSON.stringify(body));
}

export async function startFakeSsm(initial: Record<string, string> = {}): Promise<FakeSsm> {
  const fake: Omit<FakeSsm, 'endpoint' | 'stop'> = {
    parameters: new Map(Object.entries(initial)),
    requests: [],
    fail: false,
    hang: false,
  };
  const parameter = (name: string) => ({
    Name: name,
    Type: 'SecureString',
    Value: fake.parameters.get(name),
    Version: 1,
  });
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', async () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const input = JSON.parse(body || '{}') as {
        Name?: string;
        Names?: string[];
        Value?: string;
        Type?: string;
        Overwrite?: boolean;
      };
      const names = input.Names ?? (input.Name ? [input.Name] : []);
      fake.requests.push({ target, names });
      if (fake.hang) return;
      if (!(await validSignature(req, body))) {
        reply(res, 400, { __type: 'InvalidSignatureException', message: 'signature mismatch' });
      } else if (fake.fail) {
        reply(res, 500, { __type: 'InternalServerError', message: 'injected outage' });
      } else if (target === 'AmazonSSM.GetParameters') {
        reply(res, 200, {
          Parameters: names.filter((n) => fake.parameters.has(n)).map(parameter),
          InvalidParameters: names.filter((n) => !fake.parameters.has(n)),
        });
      } else if (target === 'AmazonSSM.GetParameter' && fake.parameters.has(names[0] ?? '')) {
        reply(res, 200, { Parameter: parameter(names[0]!) });
      } else if (target === 'AmazonSSM.GetParameter') {
        reply(res, 400, { __type: 'ParameterNotFound', message: 'not found' });
      } else if (target === 'AmazonSSM.PutParameter') {
        if (!input.Name || typeof input.Value !== 'string' || input.Type !== 'SecureString') {
          reply(res, 400, { __type: 'ValidationException', message: 'Name, Value, Type' });
        } else if (fake.parameters.has(input.Name) && input.Overwrite !== true) {
          reply(res, 400, { __type: 'ParameterAlreadyExists', message: input.Name });
        } else {
          fake.parameters.set(input.Name, input.Value);
          reply(res, 200, { Version: 2, Tier: 'Standard' });
        }
      } else {
        reply(res, 400, { __type: 'UnknownOperationException', message: target });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
