'use strict';
/**
 * Makes `serverless offline` hand the handlers the HTTP API (payload 2.0) event API Gateway would,
 * where it does not by itself (serverless-offline 14.8, LambdaProxyIntegrationEventV2.js):
 * - it adds `content-type: application/json` to a request with a body and no Content-Type, so
 *   such a request was accepted locally and answered 415 on AWS: the header is removed again;
 * - of a header sent several times it keeps the last value, where API Gateway joins them with
 *   commas ("Duplicate headers are combined with commas", HTTP API payload format 2.0), so two
 *   Authorization headers passed locally with the right one last: they are joined again;
 * - every request has the same request id, "offlineContext_resourceId": each gets its own, as
 *   API Gateway gives it, so log lines can be told apart;
 * - it grants CORS to every Origin, with credentials (the page of any other port on localhost
 *   could read the event store through a signed-in browser), where API Gateway with no
 *   `provider.httpApi.cors` adds no CORS header at all: they are removed again.
 * It runs only under `serverless offline` (npm start, the tests); package and deploy never load
 * it. docs/http-api.md lists what still differs.
 */
const { AsyncLocalStorage } = require('node:async_hooks');
const { randomBytes } = require('node:crypto');
const http = require('node:http');
const { dirname, join } = require('node:path');
const { pathToFileURL } = require('node:url');

/** API Gateway puts cookies in `event.cookies`, not in a joined header: left as offline has them. */
const NOT_JOINED = new Set(['cookie']);

let installed;

/** The headers of the raw request by lower-cased name, every value in order. */
function headerValues(rawHeaders) {
  const values = new Map();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    values.set(name, [...(values.get(name) ?? []), rawHeaders[i + 1]]);
  }
  return values;
}

function asApiGateway(event, rawHeaders) {
  if (!event || typeof event.headers !== 'object' || event.headers === null) return event;
  const sent = headerValues(rawHeaders);
  if (!sent.has('content-type')) delete event.headers['content-type'];
  for (const [name, values] of sent) {
    if (values.length > 1 && !NOT_JOINED.has(name)) event.headers[name] = values.join(',');
  }
  if (event.requestContext?.requestId === 'offlineContext_resourceId') {
    // API Gateway's are 16 characters, letters, digits and "=", e.g. "JKJaXmPLvHcESHA=".
    event.requestContext.requestId = randomBytes(12).toString('base64').replace(/[+/]/g, 'x');
  }
  return event;
}

/** Removes every Access-Control-* header from `response` just before it is sent. */
function withoutCors(response) {
  const writeHead = response.writeHead;
  response.writeHead = function writeHeadWithoutCors(...args) {
    for (const name of this.getHeaderNames()) {
      if (name.startsWith('access-control-')) this.removeHeader(name);
    }
    const headers = args.find((arg) => typeof arg === 'object' && arg !== null);
    if (headers && !Array.isArray(headers)) {
      for (const name of Object.keys(headers)) {
        if (name.toLowerCase().startsWith('access-control-')) delete headers[name];
      }
    }
    return writeHead.apply(this, args);
  };
}

async function install(corsConfigured) {
  installed ??= (async () => {
    // Which raw request an event is being made for: the request's own async context.
    const current = new AsyncLocalStorage();
    const emit = http.Server.prototype.emit;
    http.Server.prototype.emit = function emitWithRequest(name, request, ...rest) {
      if (name !== 'request') return emit.call(this, name, request, ...rest);
      if (!corsConfigured && rest[0] instanceof http.ServerResponse) withoutCors(rest[0]);
      return current.run(request, () => emit.call(this, name, request, ...rest));
    };
    // The module serverless-offline itself loaded (same file, so the same class).
    const root = dirname(require.resolve('serverless-offline'));
    const file = join(root, 'events/http/lambda-events/LambdaProxyIntegrationEventV2.js');
    const { default: EventV2 } = await import(pathToFileURL(file).href);
    const create = EventV2.prototype.create;
    EventV2.prototype.create = function createAsApiGateway(...args) {
      const event = create.apply(this, args);
      const request = current.getStore();
      return request ? asApiGateway(event, request.rawHeaders) : event;
    };
  })();
  return installed;
}

class OfflineAsApiGateway {
  constructor(serverless) {
    const corsConfigured = Boolean(serverless?.service?.provider?.httpApi?.cors);
    const start = () => install(corsConfigured);
    // `offline` and `offline start` both start here, before the server takes requests.
    this.hooks = { 'before:offline:start': start, 'before:offline:start:init': start };
  }
}

module.exports = OfflineAsApiGateway;
module.exports.asApiGateway = asApiGateway;
