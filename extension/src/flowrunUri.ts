/**
 * The `flowrun:` URI scheme of read-only documents (pure: strings in, strings out).
 *
 *   flowrun:/<executionId>/execution.json                 the whole execution tree
 *   flowrun:/<executionId>/<nodeId>.<part>.<ext>?iteration=2&stage=build
 *
 * `part` is input | output (JSON) or error | logs (text). The node id is in the file name
 * so the editor tab says which node it shows.
 */

export const SCHEME = 'flowrun';

export type DetailPart = 'input' | 'output' | 'error' | 'logs';

export const DETAIL_PARTS: readonly DetailPart[] = ['input', 'output', 'error', 'logs'];

export interface DocumentRef {
  executionId: string;
  /** Undefined: the whole execution. */
  nodeId?: string;
  part?: DetailPart;
  iteration?: number | null;
  stage?: string | null;
}

export function extensionOf(part: DetailPart): 'json' | 'txt' {
  return part === 'input' || part === 'output' ? 'json' : 'txt';
}

/** The path and query of a document's URI (the scheme is SCHEME). */
export function formatRef(ref: DocumentRef): { path: string; query: string } {
  const exec = encodeURIComponent(ref.executionId);
  if (ref.nodeId === undefined || ref.part === undefined) {
    return { path: `/${exec}/execution.json`, query: '' };
  }
  const name = `${encodeURIComponent(ref.nodeId)}.${ref.part}.${extensionOf(ref.part)}`;
  const query = new URLSearchParams();
  if (ref.iteration != null) {
    query.set('iteration', String(ref.iteration));
  }
  if (ref.stage != null) {
    query.set('stage', ref.stage);
  }
  return { path: `/${exec}/${name}`, query: query.toString() };
}

export function formatUri(ref: DocumentRef): string {
  const { path, query } = formatRef(ref);
  return `${SCHEME}:${path}${query ? `?${query}` : ''}`;
}

const NODE_FILE = /^(.+)\.(input|output|error|logs)\.(json|txt)$/;

/** Parses the path and query of a `flowrun:` URI; undefined when it is not one of ours. */
export function parseRef(path: string, query = ''): DocumentRef | undefined {
  try {
    return parse(path, query);
  } catch (error) {
    if (error instanceof URIError) {
      return undefined; // a malformed escape (`%zz`): not a URI this extension made
    }
    throw error;
  }
}

function parse(path: string, query: string): DocumentRef | undefined {
  const parts = path.replace(/^\/+/, '').split('/');
  if (parts.length !== 2 || parts[0] === '') {
    return undefined;
  }
  const executionId = decodeURIComponent(parts[0]);
  if (parts[1] === 'execution.json') {
    return { executionId };
  }
  const match = NODE_FILE.exec(parts[1]);
  if (match === null) {
    return undefined;
  }
  const part = match[2] as DetailPart;
  if (match[3] !== extensionOf(part)) {
    return undefined;
  }
  const params = new URLSearchParams(query);
  const iteration = params.get('iteration');
  return {
    executionId,
    nodeId: decodeURIComponent(match[1]),
    part,
    iteration: iteration !== null && /^\d+$/.test(iteration) ? Number(iteration) : null,
    stage: params.get('stage'),
  };
}
