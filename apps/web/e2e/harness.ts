/** Shared pieces of the end-to-end tests and the benchmark: Chromium, the CLI, the built app. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium, or `$CHROMIUM_PATH`. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags for a headless, sandbox-less, network-quiet Chromium. */
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
];

/** The app directory (apps/web). */
export const APP_DIR = fileURLToPath(new URL('..', import.meta.url));

/** The built CLI. */
export const CLI_BIN = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));

/** The model the built app serves by default. */
export const DIST_MODEL = fileURLToPath(new URL('../dist/models/default.onnx', import.meta.url));

/** Where screenshots go (gitignored). */
export const ARTIFACTS_DIR = fileURLToPath(new URL('../test-artifacts/', import.meta.url));

/**
 * Why the suite cannot run here, or null: missing Chromium, missing build, missing CLI build.
 *
 * @returns a message or null
 */
export function missingPrerequisite(): string | null {
  if (!existsSync(CHROMIUM_PATH)) {
    return `Chromium not found at ${CHROMIUM_PATH}. Install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH.`;
  }
  if (!existsSync(DIST_MODEL)) return `${DIST_MODEL} is missing: build the app first (pnpm --filter @fmnist/web build).`;
  if (!existsSync(CLI_BIN)) return `${CLI_BIN} is missing: build the CLI first (pnpm build).`;
  return null;
}

/**
 * Launches headless Chromium.
 *
 * @param extraArgs - more command-line flags
 * @returns the browser
 */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  // Software WebGPU needs a GPU process: drop --disable-gpu then.
  const args = extraArgs.length > 0 ? CHROMIUM_ARGS.filter((a) => a !== '--disable-gpu') : CHROMIUM_ARGS;
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...args, ...extraArgs] });
}

/**
 * Runs `node apps/cli/dist/bin.js …args --json` and parses its stdout.
 *
 * @param args - the command and its arguments
 * @returns the JSON document
 */
export function runCli<T = unknown>(args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI_BIN, ...args, '--json'], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`fmnist ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as T);
    });
  });
}

/** One prediction of `fmnist predict --json`. */
export interface CliPrediction {
  input: string;
  label: number;
  className: string;
  probability: number;
  top: { class: number; name: string; probability: number }[];
  trueLabel?: number;
}

/** `fmnist eval --json`. */
export interface CliEval {
  accuracy: number;
  loss: number;
  confusion: number[][];
  images: number;
  timeMs: number;
}
