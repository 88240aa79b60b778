/** Where a node is defined in a workflow file's text (pure; the fallback when symbols fail). */

export interface TextPosition {
  line: number;
  character: number;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The position of the node id's value in `id: <nodeId>` (a list item or a mapping key). */
export function findNodeDefinition(text: string, nodeId: string): TextPosition | undefined {
  const pattern = new RegExp(
    `^(\\s*(?:-\\s+)?id\\s*:\\s*)(['"]?)${escape(nodeId)}\\2\\s*(?:#.*)?$`,
  );
  const lines = text.split(/\r?\n/);
  for (let line = 0; line < lines.length; line++) {
    const match = pattern.exec(lines[line]);
    if (match !== null) {
      return { line, character: match[1].length + match[2].length };
    }
  }
  return undefined;
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
