/** Query and path parameters of the read API's routes: validated, or a 400 that says why. */
import { RequestError } from '../errors';
import type { HttpRequest } from '../http/http';
import { quoted } from '../printable';
import { parseLimit, parseTime } from '../store/query-parameters';

/** Validated query parameters; unknown or empty ones are refused rather than ignored. */
export function parameters(
  request: HttpRequest,
  allowed: string[],
): Record<string, string | undefined> {
  const found: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(request.query)) {
    if (!allowed.includes(name)) {
      throw new RequestError(
        400,
        'unknown_parameter',
        allowed.length === 0
          ? `This path takes no query parameters, got ${quoted(name, 50)}.`
          : `Unknown query parameter ${quoted(name, 50)}; this path takes: ${allowed.join(', ')}.`,
      );
    }
    if (value === '')
      throw new RequestError(400, 'invalid_parameter', `${name} must not be empty.`);
    found[name] = value;
  }
  return found;
}

export function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new RequestError(
      400,
      'invalid_parameter',
      'The id in the path is not valid percent-encoding.',
    );
  }
}

/** The paging and time window every listing takes. */
export function listOptions(params: Record<string, string | undefined>) {
  return {
    since: params.since === undefined ? undefined : parseTime(params.since, 'since'),
    until: params.until === undefined ? undefined : parseTime(params.until, 'until'),
    limit: parseLimit(params.limit),
    cursor: params.cursor,
  };
}
