/**
 * A deployed stage's endpoint for `hook apply --stage S` without --url: the `WebhookUrl` output
 * of the stage's CloudFormation stack (serverless.yml `resources.Outputs`; the stack is
 * `<service>-<stage>`, serverless's default name). One signed DescribeStacks call (the Query
 * protocol: a form POST to "/", answered in XML) with the operator's AWS credentials from the
 * environment; CLOUDFORMATION_ENDPOINT points it at a fake in tests. Tooling only.
 */
import { awsCallRecordingOn, recordAwsCall } from '../aws/call-recorder';
import { type AwsCredentials, signedJsonPostHeaders } from '../aws/sigv4';
import { awsCredentialsFromEnv } from '../config';
import { HookSettingsError } from './hook-definition';

export const WEBHOOK_URL_OUTPUT = 'WebhookUrl';
const SERVICE = 'okta-event-hooks';
const TIMEOUT_MS = 10_000;
/** The fakes check signatures made with these (as lib/secrets.ts does for SSM_ENDPOINT). */
const LOCAL_CREDENTIALS: AwsCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };

const xmlText = (xml: string, tag: string) =>
  new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml)?.[1]?.trim();
const unescapeXml = (text: string) =>
  text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

/** The stack's WebhookUrl output; one line naming what to do when it cannot be read. */
export async function stageWebhookUrl(stage: string, env: NodeJS.ProcessEnv): Promise<string> {
  const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || 'us-east-1';
  const stack = `${SERVICE}-${stage}`;
  const fallback = `or give --url (the WebhookUrl that npx serverless info --stage ${stage} --verbose prints)`;
  const override = env.CLOUDFORMATION_ENDPOINT?.trim();
  const credentials = override ? LOCAL_CREDENTIALS : awsCredentialsFromEnv(env);
  if (!credentials) {
    throw new HookSettingsError(
      `no --url, and no AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) to read the stack ${stack}'s ${WEBHOOK_URL_OUTPUT} with: set them, ${fallback}`,
    );
  }
  const url = new URL('/', override || `https://cloudformation.${region}.amazonaws.com`);
  const body = new URLSearchParams({
    Action: 'DescribeStacks',
    StackName: stack,
    Version: '2010-05-15',
  }).toString();
  if (awsCallRecordingOn()) {
    recordAwsCall('cloudformation', 'DescribeStacks', [
      `arn:aws:cloudformation:${region}:000000000000:stack/${stack}/*`,
    ]);
  }
  const headers = signedJsonPostHeaders(
    url,
    { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body,
    { region, service: 'cloudformation', credentials },
  );
  let status: number;
  let xml: string;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    status = response.status;
    xml = await response.text();
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    throw new HookSettingsError(`CloudFormation could not be reached (${cause}): ${fallback}`);
  }
  if (status !== 200) {
    const code = xmlText(xml, 'Code') ?? `HTTP ${status}`;
    const message = unescapeXml(xmlText(xml, 'Message') ?? '');
    throw new HookSettingsError(
      `CloudFormation answered ${code}${message ? ` (${message})` : ''} for the stack ${stack} in ${region}: deploy the stage first, ${fallback}`,
    );
  }
  const outputs = xmlText(xml, 'Outputs') ?? '';
  for (const member of outputs.match(/<member>[\s\S]*?<\/member>/g) ?? []) {
    if (xmlText(member, 'OutputKey') === WEBHOOK_URL_OUTPUT) {
      const value = xmlText(member, 'OutputValue');
      if (value) return unescapeXml(value);
    }
  }
  throw new HookSettingsError(
    `the stack ${stack} in ${region} has no ${WEBHOOK_URL_OUTPUT} output: ${fallback}`,
  );
}
