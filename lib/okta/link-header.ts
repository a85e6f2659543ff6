/**
 * RFC 8288 `Link` headers as Okta sends them on /api/v1/logs: `<url>; rel="self"` and
 * `<url>; rel="next"`, as separate header lines or joined into one with commas (Node's fetch
 * joins repeated lines with ", "). A comma may appear inside `<…>` or a quoted parameter, so the
 * value is scanned, not split. The URLs are returned exactly as given: never build a cursor.
 */

export interface Link {
  url: string;
  /** Lower-cased relation types (`rel="next self"` names two). */
  rels: string[];
}

/** Every link in one header value or several (repeated header lines). */
export function parseLinkHeader(values: string | readonly string[] | null | undefined): Link[] {
  if (values === null || values === undefined) return [];
  const links: Link[] = [];
  for (const value of typeof values === 'string' ? [values] : values)
    links.push(...parseOne(value));
  return links;
}

/** The URL of the first link with relation `rel`, if any. */
export function linkUrl(
  values: string | readonly string[] | null | undefined,
  rel: string,
): string | undefined {
  const wanted = rel.toLowerCase();
  return parseLinkHeader(values).find((link) => link.rels.includes(wanted))?.url;
}

function parseOne(value: string): Link[] {
  const links: Link[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < value.length && (value[i] === ' ' || value[i] === '\t')) i++;
  };
  while (i < value.length) {
    skipSpace();
    if (value[i] === ',') {
      i++;
      continue;
    }
    if (value[i] !== '<') {
      // Not a link-value: skip to the next comma outside quotes and carry on.
      i = skipParam(value, i);
      continue;
    }
    const end = value.indexOf('>', i + 1);
    if (end === -1) break;
    const url = value.slice(i + 1, end).trim();
    i = end + 1;
    const rels: string[] = [];
    // Parameters: ; name=value | ; name="quoted value"
    for (;;) {
      skipSpace();
      if (value[i] !== ';') break;
      i++;
      skipSpace();
      const nameStart = i;
      while (i < value.length && !'=;,'.includes(value[i]!)) i++;
      const name = value.slice(nameStart, i).trim().toLowerCase();
      let param = '';
      if (value[i] === '=') {
        i++;
        skipSpace();
        if (value[i] === '"') {
          i++;
          while (i < value.length && value[i] !== '"') {
            if (value[i] === '\\') i++;
            param += value[i] ?? '';
            i++;
          }
          i++; // closing quote
        } else {
          const start = i;
          while (i < value.length && !';,'.includes(value[i]!)) i++;
          param = value.slice(start, i).trim();
        }
      }
      if (name === 'rel') rels.push(...param.toLowerCase().split(/\s+/).filter(Boolean));
    }
    links.push({ url, rels });
  }
  return links;
}

/** Position after the next comma that is not inside quotes. */
function skipParam(value: string, from: number): number {
  let quoted = false;
  for (let i = from; i < value.length; i++) {
    if (value[i] === '"') quoted = !quoted;
    else if (value[i] === ',' && !quoted) return i + 1;
  }
  return value.length;
}
