/**
 * The executions a debug session follows: the one it started, then each resume's (a resume is
 * a new execution). The server may send a new execution's first events before the request
 * that started it answers, so while a start is in flight events are held, and those of the
 * execution it started are handed on once its id is known.
 */
import { EngineEvent, ExecutionEventParams, Notifications } from '../protocol';
import { ServerChannel, Subscription } from './serverChannel';

export class ExecutionChain {
  /** The execution whose events the session sees; each resume replaces it. */
  current: string | undefined;
  private held: ExecutionEventParams[] | undefined;
  private readonly subscription: Subscription;

  constructor(
    channel: ServerChannel,
    private readonly onEvent: (event: EngineEvent) => void,
  ) {
    this.subscription = channel.onNotification(Notifications.executionEvent, (params) =>
      this.receive(params as ExecutionEventParams),
    );
  }

  /** Runs the request that starts the next execution and follows the one it names. */
  async start(request: () => Promise<string>): Promise<string> {
    this.held = [];
    try {
      const id = await request();
      this.current = id;
      const held = this.held;
      this.held = undefined;
      for (const params of held) {
        this.receive(params);
      }
      return id;
    } finally {
      this.held = undefined;
    }
  }

  private receive(params: ExecutionEventParams): void {
    if (this.held !== undefined) {
      this.held.push(params);
    } else if (params.executionId === this.current) {
      this.onEvent(params.event);
    }
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
