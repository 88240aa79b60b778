/**
 * How the debug adapter talks to the Flowrun language server: requests, and the server's
 * notifications. In the editor it shares the extension's connection (`ClientChannel`); run on
 * its own (standalone.ts, the DAP tests) it has a connection to a server it started
 * (`connectionChannel`).
 */
import type { MessageConnection } from 'vscode-jsonrpc';
import { Notifications } from '../protocol';

export interface Subscription {
  dispose(): void;
}

export type NotificationHandler = (params: unknown) => void;

export interface ServerChannel {
  sendRequest<R>(method: string, params: object): Promise<R>;
  onNotification(method: string, handler: NotificationHandler): Subscription;
}

/** Over the extension's FlowrunClient: it hands every server notification to `dispatch`. */
export class ClientChannel implements ServerChannel {
  private readonly handlers = new Map<string, Set<NotificationHandler>>();

  constructor(private readonly send: <R>(method: string, params: object) => Promise<R>) {}

  sendRequest<R>(method: string, params: object): Promise<R> {
    return this.send<R>(method, params);
  }

  onNotification(method: string, handler: NotificationHandler): Subscription {
    const handlers = this.handlers.get(method) ?? new Set();
    this.handlers.set(method, handlers);
    handlers.add(handler);
    return { dispose: () => handlers.delete(handler) };
  }

  dispatch(method: string, params: unknown): void {
    for (const handler of this.handlers.get(method) ?? []) {
      handler(params);
    }
  }
}

/** Over a JSON-RPC connection of its own (to a server started with stdioServer.ts); requests
 * wait for the connection. */
export function connectionChannel(connecting: Promise<MessageConnection>): ServerChannel {
  const channel = new ClientChannel(async <R>(method: string, params: object) =>
    (await connecting).sendRequest<R>(method, params),
  );
  void connecting.then((connection) => {
    for (const method of Object.values(Notifications)) {
      connection.onNotification(method, (params: unknown) => channel.dispatch(method, params));
    }
  });
  return channel;
}
