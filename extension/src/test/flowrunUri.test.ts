import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderDocument, renderError, renderLogs } from '../documentContent';
import { DetailPart, formatRef, formatUri, parseRef } from '../flowrunUri';
import { line, tree } from './fixtures';

describe('flowrun: URIs', () => {
  it('formats and parses a whole execution', () => {
    assert.equal(formatUri({ executionId: 'abc' }), 'flowrun:/abc/execution.json');
    assert.deepEqual(parseRef('/abc/execution.json'), { executionId: 'abc' });
  });

  it('round-trips node documents with stage and iteration', () => {
    const refs = [
      { executionId: 'e1', nodeId: 'fetch', part: 'output' as const, iteration: null, stage: null },
      {
        executionId: 'e1',
        nodeId: 'check-2',
        part: 'input' as const,
        iteration: 3,
        stage: 'review',
      },
      { executionId: 'e1', nodeId: 'a_b', part: 'error' as const, iteration: null, stage: 'build' },
      { executionId: 'e1', nodeId: 'n', part: 'logs' as const, iteration: 1, stage: null },
    ];
    for (const ref of refs) {
      const { path, query } = formatRef(ref);
      assert.deepEqual(parseRef(path, query), ref);
    }
    assert.equal(formatUri(refs[1]), 'flowrun:/e1/check-2.input.json?iteration=3&stage=review');
    assert.equal(formatUri(refs[3]), 'flowrun:/e1/n.logs.txt?iteration=1');
  });

  it('rejects URIs that are not ours', () => {
    for (const path of [
      '',
      '/',
      '/e1',
      '/e1/x.json',
      '/e1/n.output.txt',
      '/e1/n.logs.json',
      '/a/b/c.output.json',
      '//n.output.json',
    ]) {
      assert.equal(parseRef(path), undefined, path);
    }
    assert.equal(parseRef('/e1/n.output.json', 'iteration=x')?.iteration, null);
  });

  it('rejects malformed escapes instead of throwing URIError', () => {
    assert.equal(parseRef('/%E0%A4%A/execution.json'), undefined);
    assert.equal(parseRef('/e1/%zz.output.json'), undefined);
  });
});

describe('document content', () => {
  it('renders the execution, input and output as JSON', () => {
    const t = tree();
    assert.deepEqual(JSON.parse(renderDocument(t, { executionId: 'e1' })!), t);
    const part = (nodeId: string, part: DetailPart): string | undefined =>
      renderDocument(t, { executionId: 'e1', nodeId, part });
    assert.equal(part('fetch', 'output'), '{\n  "status": 200\n}\n');
    assert.equal(part('fetch', 'input'), '{\n  "url": "http://x"\n}\n');
    assert.equal(part('nope', 'input'), undefined);
    assert.equal(part('fetch', 'error'), 'No error.\n');
    assert.equal(part('fetch', 'logs'), 'GET /x\n');
  });

  it('renders null for a node without output', () => {
    const t = tree();
    const node = t.children[0];
    if (node.kind === 'node') {
      delete node.output;
    }
    assert.equal(
      renderDocument(t, { executionId: 'e1', nodeId: 'fetch', part: 'output' }),
      'null\n',
    );
  });

  it('renders errors with suggestion and traceback, and logs as text', () => {
    assert.equal(
      renderError({
        type: 'ExecutionError',
        message: 'boom',
        node: 'n',
        suggestion: 'Fix it',
        traceback: 'Traceback (most recent call last):\n  x\n',
      }),
      'ExecutionError: boom\n\nNode: n\n\nSuggestion: Fix it\n\nTraceback (most recent call last):\n  x\n',
    );
    assert.equal(renderError({ type: 'Stopped', message: 'stopped' }), 'Stopped: stopped\n');
    assert.equal(
      renderLogs([line('a\n'), line('b\n', 'stderr'), line('c', null)]),
      'a\n[stderr] b\nc\n',
    );
    assert.equal(renderLogs([]), '');
  });
});
