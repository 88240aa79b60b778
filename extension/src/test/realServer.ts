/**
 * The REAL language server (`python -m flowrun lsp` from the repo's .venv, or
 * FLOWRUN_TEST_PYTHON) over stdio for the tests that run against it, with this checkout's
 * server code first on PYTHONPATH (a worktree tests its own server).
 */
import * as path from 'node:path';
import * as rpc from 'vscode-jsonrpc/node';
import { startStdioServer, StdioServer } from '../debug/stdioServer';

export const REPO = path.resolve(__dirname, '..', '..', '..');
export const PYTHON = process.env.FLOWRUN_TEST_PYTHON ?? path.join(REPO, '.venv', 'bin', 'python');

/** The environment of a server (or an adapter that starts one) running this checkout's code. */
export function serverEnv(): NodeJS.ProcessEnv {
  const server = path.join(REPO, 'server');
  const rest = process.env.PYTHONPATH;
  return { ...process.env, PYTHONPATH: rest ? `${server}${path.delimiter}${rest}` : server };
}

export type RealServer = StdioServer;

/** `listen` registers the notification handlers before the connection listens. */
export function startServer(
  workspace: string,
  initializationOptions: object,
  listen: (connection: rpc.MessageConnection) => void,
): Promise<RealServer> {
  return startStdioServer({
    python: PYTHON,
    workspace,
    initializationOptions,
    env: serverEnv(),
    listen,
  });
}
