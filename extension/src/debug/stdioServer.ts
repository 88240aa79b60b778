/**
 * A Flowrun language server of its own, `<python> -m flowrun lsp` over stdio: for the debug
 * adapter run outside the editor (standalone.ts) and for the tests against the real server.
 * Started on a workspace folder; stopped with shutdown/exit, then killed if it lingers.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import * as rpc from 'vscode-jsonrpc/node';

export interface StdioServer {
  child: ChildProcess;
  connection: rpc.MessageConnection;
  stop(): Promise<void>;
}

export interface StdioServerOptions {
  python: string;
  workspace: string;
  initializationOptions?: object;
  env?: NodeJS.ProcessEnv;
  /** Registers the notification handlers before the connection listens. */
  listen?(connection: rpc.MessageConnection): void;
}

export async function startStdioServer(options: StdioServerOptions): Promise<StdioServer> {
  const { python, workspace } = options;
  const child = spawn(python, ['-m', 'flowrun', 'lsp'], {
    cwd: workspace,
    env: options.env ?? process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stderr!.resume();
  const connection = rpc.createMessageConnection(
    new rpc.StreamMessageReader(child.stdout!),
    new rpc.StreamMessageWriter(child.stdin!),
  );
  connection.onRequest((method: string) => (method === 'workspace/configuration' ? [{}] : null));
  options.listen?.(connection);
  connection.listen();
  const folder = pathToFileURL(workspace).toString();
  await connection.sendRequest('initialize', {
    processId: process.pid,
    rootUri: folder,
    workspaceFolders: [{ uri: folder, name: 'ws' }],
    capabilities: {},
    initializationOptions: { python, ...options.initializationOptions },
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
