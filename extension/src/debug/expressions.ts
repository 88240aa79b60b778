/** The `${{ … }}` expression under the cursor, for the debugger's hover (pure). */

export interface ExpressionSpan {
  /** Characters of the line: [start, end). */
  start: number;
  end: number;
  expression: string;
}

const TEMPLATE = /\$\{\{.*?\}\}/g;

export function expressionAt(line: string, character: number): ExpressionSpan | undefined {
  for (const match of line.matchAll(TEMPLATE)) {
    const start = match.index ?? 0;
    const end = start + match[0].length;
    if (character >= start && character < end) {
      return { start, end, expression: match[0] };
    }
  }
  return undefined;
}
