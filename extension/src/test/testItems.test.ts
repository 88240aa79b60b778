import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TestFile } from '../protocol';
import { fileLabel, itemsOf, selectionOf } from '../testItems';

const range = (line: number) => ({
  start: { line, character: 0 },
  end: { line, character: 0 },
});

const FILES: TestFile[] = [
  {
    uri: 'file:///ws/flows/summarize.workflow.yml',
    problem: null,
    tests: [
      { id: '/ws/flows/summarize.workflow.yml::one', name: 'one', range: range(27) },
      { id: '/ws/flows/summarize.workflow.yml::two', name: 'two', range: range(38) },
    ],
  },
  { uri: 'file:///ws/plain.workflow.yml', problem: null, tests: [] },
  {
    uri: 'file:///ws/my%20flow.workflow.yml',
    problem: 'line 3: unknown key `nodez`',
    tests: [{ id: '/ws/my flow.workflow.yml::t', name: 't', range: range(9) }],
  },
];

describe('testItems', () => {
  it('makes a file item per file with tests and a test item per test, on its line', () => {
    const items = itemsOf(FILES);
    assert.deepEqual(
      items.map((i) => [i.id, i.label, i.error, i.children.map((c) => [c.id, c.label, c.line])]),
      [
        [
          'file:///ws/flows/summarize.workflow.yml',
          'summarize.workflow.yml',
          undefined,
          [
            ['/ws/flows/summarize.workflow.yml::one', 'one', 27],
            ['/ws/flows/summarize.workflow.yml::two', 'two', 38],
          ],
        ],
        [
          'file:///ws/my%20flow.workflow.yml',
          'my flow.workflow.yml',
          'line 3: unknown key `nodez`',
          [['/ws/my flow.workflow.yml::t', 't', 9]],
        ],
      ],
    );
    assert.equal(fileLabel('file:///a/b/c.workflow.yaml'), 'c.workflow.yaml');
  });

  it('asks the server for whole files, single tests, or everything', () => {
    assert.deepEqual(selectionOf(undefined, 'r'), { runId: 'r' });
    const uri = 'file:///ws/x.workflow.yml';
    assert.deepEqual(
      selectionOf(
        [
          { id: uri, uri, isFile: true, label: 'x.workflow.yml' },
          { id: '/ws/x.workflow.yml::one', uri, isFile: false, label: 'one' },
        ],
        'r',
      ),
      { runId: 'r', items: [{ uri }, { uri, name: 'one' }] },
    );
  });
});
