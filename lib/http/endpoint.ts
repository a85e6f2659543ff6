/**
 * What every HTTP endpoint shares: parse the API Gateway event, resolve the secrets (SSM on a
 * deployed stage), authenticate the caller, map any error to a response in one
 * place, and write one log line.
 */
import { type Caller, type Identity, authenticate } from './auth';
import {
  type Config,
  assertSecured,
  assertStrongReadTokens,
  config as containerConfig,
} from '../config';
import {
  type ApiGatewayEvent,
  type HttpRequest,
  type HttpResponse,
  errorResponse,
  fitResponsePayload,
  parseRequest,
} from './http';
import { type RequestLog, causesForLog, logRequest, problemsForLog } from '../logger';
import { RequestError } from '../errors';
import { type SecretName, type SecretResolver, WEBHOOK_SECRETS, secretResolver } from '../secrets';

export interface EndpointContext {
  request: HttpRequest;
  config: Config;
  caller: Caller;
  /** The signed-in user or token subject, when the caller is a person or an app (read API). */
  identity: Identity;
  /** Fields the endpoint adds to its log line (delivery id, counts, event types). */
  log: RequestLog;
  started: number;
}

/** Okta's endpoints (verification, delivery): the hook's secret or Hookdeck's signature. */
export function authenticateOktaCaller(request: HttpRequest, config: Config): Caller {
  assertSecured(config);
  return authenticate(request.headers, request.rawBody, config);
}

export interface EndpointDeps {
  config?: Config;
  secrets?: SecretResolver;
}

export function createEndpoint(
  deps: EndpointDeps,
  authenticateCaller: (
    request: HttpRequest,
    config: Config,
  ) => Caller | Identity | Promise<Caller | Identity>,
  handle: (context: EndpointContext) => Promise<HttpResponse>,
  /** The secrets this endpoint reads: its function's IAM role allows exactly these. */
  secrets: readonly SecretName[] = WEBHOOK_SECRETS,
) {
  return async (event: ApiGatewayEvent): Promise<HttpResponse> => {
    const started = performance.now();
    const request = parseRequest(event);
    const log: RequestLog = {
      level: 'info',
      requestId: request.requestId,
      method: request.method,
      path: request.path,
      status: 0,
      ms: 0,
      sourceIp: request.sourceIp,
    };
    let format: Config['logFormat'] = 'json';
    let response: HttpResponse;
    try {
      const baseConfig = deps.config ?? containerConfig();
      format = baseConfig.logFormat;
      const config = await (deps.secrets ?? secretResolver()).resolve(
        baseConfig,
        secrets,
        (warning) => (log.warning = warning),
      );
      if (secrets.includes('eventsApiToken')) assertStrongReadTokens(config);
      const authenticated = await authenticateCaller(request, config);
      const identity =
        typeof authenticated === 'string' ? { caller: authenticated } : authenticated;
      const { caller } = identity;
      log.caller = caller;
      if (identity.user !== undefined) log.user = identity.user;
      response = fitResponsePayload(
        await handle({ request, config, caller, identity, log, started }),
        request.headers['accept-encoding'],
      );
    } catch (error) {
      response = errorResponse(error);
      log.level = response.statusCode >= 500 ? 'error' : 'warn';
      log.error = (JSON.parse(response.body ?? '{}') as { error?: string }).error;
      log.reason = error instanceof Error ? error.message : String(error);
      if (error instanceof RequestError && error.problems?.length) {
        log.problems = problemsForLog(error.problems);
      }
      const causes = causesForLog(error);
      if (causes.length > 0) log.causes = causes;
    }
    if (log.warning && log.level === 'info') log.level = 'warn';
    log.status = response.statusCode;
    log.ms = Math.round(performance.now() - started);
    logRequest(log, format);
    return response;
  };
}
