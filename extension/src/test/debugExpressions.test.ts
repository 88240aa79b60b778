/** The `${{ }}` under the cursor that a debug hover evaluates (debug/expressions.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expressionAt } from '../debug/expressions';

describe('expressionAt', () => {
  const line = '      value: {total: "${{ nodes.add.output.sum }}", n: ${{ inputs.n }}}';

  it('finds the whole expression around the cursor', () => {
    const at = line.indexOf('add');
    const found = expressionAt(line, at);
    assert.deepEqual(found, {
      start: line.indexOf('${{'),
      end: line.indexOf('}}"') + 2,
      expression: '${{ nodes.add.output.sum }}',
    });
    assert.equal(expressionAt(line, line.indexOf('inputs'))?.expression, '${{ inputs.n }}');
  });

  it('finds nothing outside an expression', () => {
    assert.equal(expressionAt(line, line.indexOf('value')), undefined);
    assert.equal(expressionAt(line, line.indexOf('}}"') + 2), undefined);
  });
});
