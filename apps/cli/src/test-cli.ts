/**
 * Test helpers for running the built `fmnist` binary as a user would: a subprocess with a timeout, and the one
 * assertion every user-caused fault must pass (a one-line error, the right exit status, no stack, no "bug" text).
 * Used by the CLI's end-to-end and fault suites.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

/** The built binary; `pnpm test` builds first. */
export const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bin.js');

/** What one run of the binary left. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the run was killed for exceeding `timeoutMs`. */
  timedOut: boolean;
}

/** Options of {@link runCli}. */
export interface RunCliOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Kill the process group after this long. @defaultValue 60000 */
  timeoutMs?: number;
  /** Run as this user and group (root only): how a permission test sees what an ordinary user sees. */
  uid?: number;
  gid?: number;
}

/** Runs `node dist/bin.js ...args` without colour, resolving when it exits (or is killed at the timeout). */
export function runCli(args: readonly string[], options: RunCliOptions = {}): Promise<CliResult> {
  const env = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', CI: 'true', ...options.env };
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    uid: options.uid,
    gid: options.gid,
  });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, options.timeoutMs ?? 60_000);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    }),
  );
}

/** A stack frame line as Node prints them. */
export const STACK_FRAME = /^\s+at .+(:\d+:\d+\)?|\(native\)|\(<anonymous>\))$/m;

/**
 * Asserts a user-caused fault was reported as fmnist promises: it finished in time with `exitCode` (1 or 2), printed
 * no stack frame and no "unexpected error"/"This is a bug", and stderr matches `message` (if given).
 */
export function expectUserError(result: CliResult, exitCode: 1 | 2, message?: RegExp): void {
  const all = `${result.stdout}\n${result.stderr}`;
  expect(result.timedOut, `timed out; stderr:\n${result.stderr}`).toBe(false);
  expect(all).not.toMatch(STACK_FRAME);
  expect(all).not.toMatch(/unexpected error|This is a bug/i);
  expect(result.code, `stderr:\n${result.stderr}`).toBe(exitCode);
  if (message) expect(result.stderr).toMatch(message);
}
