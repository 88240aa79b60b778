/**
 * The `flowrun` debug adapter on its own, over stdio (the DAP tests use it; any DAP client
 * can): it starts a Flowrun language server, `$FLOWRUN_PYTHON -m flowrun lsp` (default
 * python3), on `$FLOWRUN_WORKSPACE` (default the current folder), and stops it on disconnect.
 */
import { FlowrunDebugSession } from './adapter';
import { connectionChannel } from './serverChannel';
import { startStdioServer } from './stdioServer';

const server = startStdioServer({
  python: process.env.FLOWRUN_PYTHON || 'python3',
  workspace: process.env.FLOWRUN_WORKSPACE || process.cwd(),
});

class StandaloneSession extends FlowrunDebugSession {
  override shutdown(): void {
    void server.then((started) => started.stop()).finally(() => process.exit(0));
  }
}

const session = new StandaloneSession(connectionChannel(server.then((s) => s.connection)));
server.catch((error) => {
  process.stderr.write(`The Flowrun server did not start: ${String(error)}\n`);
  process.exit(1);
});
session.start(process.stdin, process.stdout);
