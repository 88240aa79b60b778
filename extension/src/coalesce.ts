/**
 * Coalesces restart requests (ruff-vscode's requestRestart): one run in flight plus one
 * queued flag, so a burst of requests causes at most one extra run. Pure.
 */
export class Coalescer {
  private inFlight: Promise<void> | undefined;
  private queued = false;

  constructor(private readonly task: () => Promise<void>) {}

  request(): Promise<void> {
    if (this.inFlight !== undefined) {
      this.queued = true;
      return this.inFlight;
    }
    this.inFlight = this.loop().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async loop(): Promise<void> {
    do {
      this.queued = false;
      await this.task();
    } while (this.queued);
  }
}
