/**
 * A CloudFormation endpoint that answers DescribeStacks as AWS does (the Query protocol: a form
 * POST to "/", XML answers, `ValidationError` for a stack that does not exist), refusing a
 * request whose SigV4 signature (credentials local/local) is wrong. Enough for `hook apply
 * --stage S` to read the stack's outputs.
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { validSignature } from './fake-ssm';

export interface FakeCloudFormation {
  endpoint: string;
  /** Stack name -> its outputs (OutputKey -> OutputValue). */
  stacks: Map<string, Record<string, string>>;
  /** Every request's Action and StackName. */
  requests: { action: string; stack: string }[];
  stop(): Promise<void>;
}

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function describeStacks(name: string, outputs: Record<string, string>): string {
  const members = Object.entries(outputs)
    .map(
      ([key, value]) =>
        `<member><Description>an output</Description><OutputKey>${key}</OutputKey><OutputValue>${escapeXml(value)}</OutputValue></member>`,
    )
    .join('');
  return `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>${name}</StackName><StackStatus>UPDATE_COMPLETE</StackStatus><Outputs>${members}</Outputs><Tags><member><Key>STAGE</Key><Value>x</Value></member></Tags></member></Stacks></DescribeStacksResult></DescribeStacksResponse>`;
}

function error(code: string, message: string): string {
  return `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>r</RequestId></ErrorResponse>`;
}

export async function startFakeCloudFormation(
  stacks: Record<string, Record<string, string>> = {},
): Promise<FakeCloudFormation> {
  const fake = {
    stacks: new Map(Object.entries(stacks)),
    requests: [] as FakeCloudFormation['requests'],
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', async () => {
      const form = new URLSearchParams(body);
      const action = form.get('Action') ?? '';
      const stack = form.get('StackName') ?? '';
      fake.requests.push({ action, stack });
      const reply = (status: number, xml: string) =>
        res.writeHead(status, { 'content-type': 'text/xml' }).end(xml);
      if (!(await validSignature(req, body, 'cloudformation'))) {
        reply(403, error('SignatureDoesNotMatch', 'signature mismatch'));
      } else if (action !== 'DescribeStacks' || form.get('Version') !== '2010-05-15') {
        reply(400, error('InvalidAction', action));
      } else if (!fake.stacks.has(stack)) {
        reply(400, error('ValidationError', `Stack with id ${stack} does not exist`));
      } else {
        reply(200, describeStacks(stack, fake.stacks.get(stack)!));
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
