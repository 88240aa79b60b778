/**
 * What a run or a node cost, as the Executions view shows it (`812 tok · $0.0009`): the
 * mirror of the server's `flowrun/humanize.py` (`format_tokens`, `format_cost`, `cost_parts`),
 * so the terminal and the editor read the same. Pure: no vscode.
 */
import { CostFields } from './protocol';

/** `$0.0009`, `$0.004`, `$1.25`: two significant digits below a dollar, cents above. */
export function formatCost(usd: number | null | undefined): string {
  if (usd == null || !Number.isFinite(usd) || usd < 0) {
    return '';
  }
  if (usd === 0) {
    return '$0';
  }
  if (usd >= 1) {
    return `$${usd.toFixed(2)}`;
  }
  if (usd < 0.000001) {
    return '<$0.000001';
  }
  let first = 1; // the decimal place of the first significant digit
  while (usd < 10 ** -first) {
    first += 1;
  }
  return `$${usd
    .toFixed(first + 1)
    .replace(/0+$/, '')
    .replace(/\.$/, '')}`;
}

/** `812 tok`, `12.3k tok`, `1.2M tok`. */
export function formatTokens(count: number | null | undefined): string {
  if (count == null || !Number.isFinite(count)) {
    return '';
  }
  if (count < 10_000) {
    return `${count} tok`;
  }
  if (count < 1_000_000) {
    return `${(count / 1000).toFixed(1)}k tok`;
  }
  return `${(count / 1_000_000).toFixed(1)}M tok`;
}

/** `['812 tok', '$0.0009']`; [] when it called no LLM; tokens only when no price is known. */
export function costParts(item: CostFields): string[] {
  if (!item.llmCalls) {
    return [];
  }
  const tokens = (item.inputTokens ?? 0) + (item.outputTokens ?? 0);
  return [formatTokens(tokens), formatCost(item.costUsd)].filter((part) => part !== '');
}
