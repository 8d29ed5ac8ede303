// A task a node runs once per process when it first leads, and again on a later lead only if it
// failed: the legacy spec-key migration (app/node-specs.ts). Not at every view while leading: with
// a failing server each try opened a connection and a consumer over the whole bucket, and a
// deliberately broken run showed a burst of them. A lead that ends while the task runs does not
// start a second one. Pure state over the views it is told; the task's outcome comes back as a
// promise.

export type LeadOnceState = 'waiting' | 'running' | 'done';

export class LeadOnce {
  private state: LeadOnceState = 'waiting';
  private leading = false;

  /** `task` resolves once done; a rejection makes it wait for this node's next lead. */
  constructor(private readonly task: () => Promise<void>) {}

  /** Told at every view: whether this node leads now. */
  note(leading: boolean): void {
    if (leading && !this.leading && this.state === 'waiting') {
      this.state = 'running';
      this.task().then(
        () => {
          this.state = 'done';
        },
        () => {
          this.state = 'waiting';
        },
      );
    }
    this.leading = leading;
  }

  get status(): LeadOnceState {
    return this.state;
  }
}
