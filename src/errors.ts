/**
 * The one base of every error the package throws: a stable `code` that programs switch on (UPPER_SNAKE, such as
 * `RUN_EXISTS`) and a message a person can act on. Pure, so workflow code can use it too.
 */
export class TrellisError extends Error {
  constructor(
    /** Stable and UPPER_SNAKE: switch on it, not on the message. */
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}
