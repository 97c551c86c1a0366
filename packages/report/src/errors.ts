import { FmnistError } from '@fmnist/data';

/**
 * Stable codes of {@link FmnistReportError}. They never change meaning between releases.
 *
 * | code | meaning |
 * | --- | --- |
 * | `E_REPORT_INPUT` | parts of a run report's input that disagree: test images that are not 784 bytes per label, predictions that are not one per test label, a confusion matrix that is not one row and column per class, a label or prediction that is not a class index |
 */
export type FmnistReportErrorCode = 'E_REPORT_INPUT';

/**
 * An error from `@fmnist/report` with a stable `code`; the message names the field, what was expected and the fix.
 * A wrong type is a `TypeError`, a value out of range a `RangeError`.
 *
 * @example
 * ```ts
 * import { FmnistReportError, renderRunReport } from '@fmnist/report';
 *
 * try {
 *   renderRunReport({
 *     title: 'x',
 *     epochs: [],
 *     evaluation: { confusion: [[1]], predictions: new Uint8Array(2) },
 *     classNames: ['only'],
 *     testImages: { images: new Uint8Array(784), labels: new Uint8Array(1) },
 *     config: {},
 *   });
 * } catch (err) {
 *   if (err instanceof FmnistReportError && err.code === 'E_REPORT_INPUT') console.error(err.message);
 * }
 * ```
 */
export class FmnistReportError extends FmnistError {
  declare readonly code: FmnistReportErrorCode;

  /**
   * @param code - one of {@link FmnistReportErrorCode}
   * @param message - what went wrong and how to fix it
   * @param options - `cause` of a wrapped error
   */
  constructor(code: FmnistReportErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'FmnistReportError';
  }
}
