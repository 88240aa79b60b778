/**
 * The REAL language server (`python -m flowrun lsp` from the repo's .venv) over stdio for the
 * tests that run against it: started on a workspace folder, stopped (then killed if it lingers).
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as rpc from 'vscode-jsonrpc/node';

export const REPO = path.resolve(__dirname, '..', '..', '..');
export const PYTHON = path.join(REPO, '.venv', 'bin', 'python');

export interface RealServer {
  child: ChildProcess;
  connection: rpc.MessageConnection;
  stop(): Promise<void>;
}

/** `listen` registers the notification handlers before the connection listens. */
export async function startServer(
  workspace: string,
  initializationOptions: object,
  listen: (connection: rpc.MessageConnection) => void,
): Promise<RealServer> {
  const child = spawn(PYTHON, ['-m', 'flowrun', 'lsp'], {
    cwd: workspace,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stderr!.resume();
  const connection = rpc.createMessageConnection(
    new rpc.StreamMessageReader(child.stdout!),
    new rpc.StreamMessageWriter(child.stdin!),
  );
  connection.onRequest((method: string) => (method === 'workspace/configuration' ? [{}] : null));
  listen(connection);
  connection.listen();
  const folder = pathToFileURL(workspace).toString();
  await connection.sendRequest('initialize', {
    processId: process.pid,
    rootUri: folder,
    workspaceFolders: [{ uri: folder, name: 'ws' }],
    capabilities: {},
    initializationOptions: { python: PYTHON, ...initializationOptions },
  });
  await connection.sendNotification('initialized', {});
  return { child, connection, stop: () => stopServer(child, connection) };
}

async function stopServer(child: ChildProcess, connection: rpc.MessageConnection): Promise<void> {
  try {
    await connection.sendRequest('shutdown');
    await connection.sendNotification('exit');
  } catch {
    // Already gone.
  }
  connection.dispose();
  if (child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(kill);
  }
}
