/** Where a node is defined, from the server's document symbols (pure). */

export interface TextPosition {
  line: number;
  character: number;
}

export interface SymbolLike {
  name: string;
  detail?: string;
  selectionRange?: { start: TextPosition };
  range?: { start: TextPosition };
  location?: { range: { start: TextPosition } };
  children?: SymbolLike[];
}

/** Finds a node's symbol among document symbols (nested or flat), by name. */
export function findNodeSymbol(symbols: SymbolLike[], nodeId: string): TextPosition | undefined {
  for (const symbol of symbols) {
    const name = symbol.name.trim();
    if (name === nodeId || name.startsWith(`${nodeId} `)) {
      return symbol.selectionRange?.start ?? symbol.range?.start ?? symbol.location?.range.start;
    }
    const inner = findNodeSymbol(symbol.children ?? [], nodeId);
    if (inner !== undefined) {
      return inner;
    }
  }
  return undefined;
}
