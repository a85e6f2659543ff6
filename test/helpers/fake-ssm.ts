/**
 * A small SSM Parameter Store speaking the real JSON 1.1 protocol (POST /, X-Amz-Target:
 * AmazonSSM.GetParameter(s)), so the SDK client runs unchanged against it. Its `fail` switch
 * injects the one fault a real SSM cannot be made to produce on demand: an outage.
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSsm {
  endpoint: string;
  /** Parameter name -> SecureString value; edit it to simulate a rotation. */
  parameters: Map<string, string>;
  /** Every request's target and parameter names, in order. */
  requests: { target: string; names: string[] }[];
  /** While true, every request is answered 500 InternalServerError. */
  fail: boolean;
  stop(): Promise<void>;
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
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const input = JSON.parse(body || '{}') as { Name?: string; Names?: string[] };
      const names = input.Names ?? (input.Name ? [input.Name] : []);
      fake.requests.push({ target, names });
      if (fake.fail) {
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
