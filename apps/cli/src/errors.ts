/**
 * Exit codes and the error that carries one. Any command throws {@link ExitError} (or {@link UsageError}) for a
 * mistake the user can fix; `bin.ts` prints its one-line message and sets `process.exitCode` from it.
 */

/** Exit status of the `fmnist` command. */
export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

/** An expected failure: its message is printed as one line (no stack unless `--verbose`), `code` becomes the exit status. */
export class ExitError extends Error {
  /** Process exit status. */
  readonly code: number;

  /**
   * @param message - what went wrong and how to fix it
   * @param code - exit status @defaultValue 1
   * @param options - `cause` of a wrapped error
   */
  constructor(message: string, code: number = EXIT.failure, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ExitError';
    this.code = code;
  }
}

/** A wrong flag or argument: exit status 2, printed with a pointer to `--help`. */
export class UsageError extends ExitError {
  /**
   * @param message - the bad value and what is expected
   * @param options - `cause` of a wrapped error
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.usage, options);
    this.name = 'UsageError';
  }
}

/**
 * Stable codes of {@link RunError}: faults of a run directory.
 *
 * | code | meaning |
 * | --- | --- |
 * | `E_RUN_LOCKED` | another `fmnist train` is writing the run directory |
 * | `E_RUN_CONFIG_CORRUPT` | the run's `config.json` breaks its schema (the message names the field and the value) or is not a regular file |
 * | `E_RUN_MISMATCH` | the run's `config.json` disagrees with its checkpoint |
 */
export type RunErrorCode = 'E_RUN_LOCKED' | 'E_RUN_CONFIG_CORRUPT' | 'E_RUN_MISMATCH';

/** A fault of a run directory: exit status 1, its stable code shown after the message (`… [E_RUN_LOCKED]`). */
export class RunError extends ExitError {
  /** Stable string code. */
  readonly errorCode: RunErrorCode;

  /**
   * @param errorCode - one of {@link RunErrorCode}
   * @param message - what is wrong, which file or field, and the fix
   * @param options - `cause` of a wrapped error
   */
  constructor(errorCode: RunErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${message} [${errorCode}]`, EXIT.failure, options);
    this.name = 'RunError';
    this.errorCode = errorCode;
  }
}
