// The named-check runner shared by scripts/pack-smoke.mjs and scripts/release-dry-run.mjs: one line per check
// (✓ with its time and detail, or ✗ with the reason), the others still run after a failure, and a summary line.

/**
 * Creates a runner for one script's checks.
 *
 * @param {string} label - the script's name, prefixed to the summary lines
 * @returns {{ check: (name: string, fn: () => unknown, options?: { fatal?: boolean }) => Promise<void>,
 *   setupFailed: (err: unknown) => void, finish: () => void }}
 */
export function createChecks(label) {
  const started = performance.now();
  /** @type {{ name: string, ok: boolean }[]} */
  const results = [];
  const indent = (text) => String(text).split('\n').join('\n    ');
  return {
    /** Runs one named check; a failure is reported and the next checks still run, unless `fatal`. */
    async check(name, fn, { fatal = false } = {}) {
      const t0 = performance.now();
      try {
        const detail = await fn();
        console.log(`✓ ${name} (${((performance.now() - t0) / 1000).toFixed(1)}s)${detail ? `\n    ${indent(detail)}` : ''}`);
        results.push({ name, ok: true });
      } catch (err) {
        console.log(`✗ ${name}\n    ${indent(err?.message ?? err)}`);
        results.push({ name, ok: false });
        if (fatal) throw new Error(`stopping: '${name}' is needed by the checks after it`);
      }
    },
    /** Records an error outside any check (e.g. a fatal check stopped the run) as a failure, and prints it. */
    setupFailed(err) {
      if (!results.some((r) => !r.ok)) results.push({ name: 'setup', ok: false });
      console.log(String(err?.message ?? err));
    },
    /** Prints the time and the pass/fail counts; sets a failing exit status when any check failed. */
    finish() {
      const failed = results.filter((r) => !r.ok);
      console.log(`\n${label}: ${((performance.now() - started) / 1000).toFixed(1)}s`);
      console.log(`${label}: ${results.length - failed.length} passed, ${failed.length} failed`);
      if (failed.length) process.exitCode = 1;
    },
  };
}
