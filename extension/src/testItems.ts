/**
 * Test Explorer data, without `vscode`: what items the server's `flowrun/listTests` answer
 * makes and which `flowrun/runTests` selection a set of items is. testExplorer.ts applies
 * these to the Testing API (and each `flowrun/testEvent` to its run).
 */
import { RunTestsParams, TestFile, TestSelection } from './protocol';

export interface TestItemSpec {
  /** A file's id is its URI; a test's is the server's `path::name`. */
  id: string;
  label: string;
  uri: string;
  /** 0-based line of the test's `- name:` (files: none). */
  line?: number;
  /** Why the file's tests cannot run (shown as the item's error). */
  error?: string;
  children: TestItemSpec[];
}

export function fileLabel(uri: string): string {
  const path = decodeURIComponent(uri.replace(/^file:\/\//, ''));
  return path.slice(path.lastIndexOf('/') + 1);
}

/** One item per file that has tests, with one child per test. */
export function itemsOf(files: TestFile[]): TestItemSpec[] {
  return files
    .filter((file) => file.tests.length > 0)
    .map((file) => ({
      id: file.uri,
      label: fileLabel(file.uri),
      uri: file.uri,
      error: file.problem ?? undefined,
      children: file.tests.map((test) => ({
        id: test.id,
        label: test.name,
        uri: file.uri,
        line: test.range.start.line,
        children: [],
      })),
    }));
}

/** What a run of these items asks the server: a file (all its tests) or one test. */
export function selectionOf(
  items: ReadonlyArray<{ id: string; uri: string; isFile: boolean; label: string }> | undefined,
  runId: string,
): RunTestsParams {
  if (items === undefined) {
    return { runId };
  }
  const chosen: TestSelection[] = items.map((item) =>
    item.isFile ? { uri: item.uri } : { uri: item.uri, name: item.label },
  );
  return { items: chosen, runId };
}
