/** Parts the detail panels share: summary entries and pretty, highlighted JSON. */
import { h } from './dom';
import { prettyTokens } from './json-tokens';

/** Pretty JSON into `target`, highlighted unless `highlight` is false; returns the text shown. */
export function renderJson(target: HTMLElement, text: string, highlight = true): string {
  const fragment = document.createDocumentFragment();
  let pretty = '';
  for (const token of prettyTokens(text)) {
    pretty += token.text;
    if (!highlight) continue;
    if (token.kind === 'space' || token.kind === 'punctuation') {
      fragment.append(token.text);
    } else {
      fragment.append(h('span', { class: `j-${token.kind}` }, token.text));
    }
  }
  if (highlight) target.replaceChildren(fragment);
  else target.textContent = pretty;
  return pretty;
}

/** A term and its description for a summary <dl>; '—' when there is nothing to say. */
export function entry(term: string, ...description: (Node | string | undefined)[]): Node[] {
  const parts = description.filter((d) => d !== undefined && d !== '');
  return [h('dt', {}, term), h('dd', {}, ...(parts.length ? parts : ['—']))];
}
