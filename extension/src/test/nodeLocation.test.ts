import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findNodeSymbol } from '../nodeLocation';

describe('findNodeSymbol', () => {
  const at = (line: number) => ({ start: { line, character: 2 } });
  it('finds nested and flat symbols by name', () => {
    const symbols = [
      {
        name: 'stages',
        range: at(0),
        children: [
          {
            name: 'build',
            range: at(1),
            children: [{ name: 'compile (shell)', selectionRange: at(5), range: at(4) }],
          },
        ],
      },
      { name: 'flat', location: { range: at(9) } },
    ];
    assert.deepEqual(findNodeSymbol(symbols, 'compile'), { line: 5, character: 2 });
    assert.deepEqual(findNodeSymbol(symbols, 'flat'), { line: 9, character: 2 });
    assert.deepEqual(findNodeSymbol(symbols, 'build'), { line: 1, character: 2 });
    assert.equal(findNodeSymbol(symbols, 'comp'), undefined);
  });
});
