/**
 * Training in the page is `@fmnist/model`'s own trainer: the same preset, seed, subset, batch size and threads give
 * bit-identical parameters (SHA-256 of `model.safetensors`) after one epoch in Chromium — cross-origin isolated
 * (shared memory) and not (messages) — and in `fmnist train`. A reload mid-run resumes from the IndexedDB checkpoint
 * to the same bits. Driven through the app's training session (`window.fmnist.session`); the Train view's own flows
 * are in train.e2e.test.ts.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainSettings } from '../src/train/session-types';
import { CLI_BIN, launchChromium, missingPrerequisite } from './harness';
// @ts-expect-error: plain JavaScript module without types
import { serveDist } from './serve.mjs';

const missing = missingPrerequisite();
if (missing) {
  if (process.env.CI && process.env.CI !== 'false') throw new Error(`End-to-end tests cannot run: ${missing}`);
  console.warn(`\n⚠ SKIPPING the training parity tests: ${missing}\n`);
}

type Server = { url: string; close: () => Promise<void> };

const SETTINGS: TrainSettings = {
  preset: 'patch-mlp',
  epochs: 1,
  batchSize: 128,
  learningRate: 1e-3,
  lrSchedule: 'constant',
  weightDecay: 0,
  labelSmoothing: 0,
  augment: { shift: 1, flip: true },
  subset: 4000,
  seed: 7,
  threads: 2,
};

/** `fmnist train` with SETTINGS: the SHA-256 of its model.safetensors and its test accuracy. */
async function trainInNode(): Promise<{ sha256: string; testAccuracy: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'fmnist-parity-'));
  try {
    const args = [
      CLI_BIN,
      'train',
      ...['--preset', SETTINGS.preset, '--epochs', '1', '--batch-size', String(SETTINGS.batchSize)],
      ...['--lr', String(SETTINGS.learningRate), '--lr-schedule', SETTINGS.lrSchedule, '--augment', 'flip,shift=1'],
      ...['--seed', String(SETTINGS.seed), '--threads', '2', '--subset', String(SETTINGS.subset)],
      ...['--out', join(dir, 'run'), '--no-report', '--no-export', '--json'],
    ];
    await new Promise<void>((resolve, reject) =>
      execFile(process.execPath, args, (err, _out, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve())),
    );
    const metrics = JSON.parse(
      readFileSync(join(dir, 'run', 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .at(-1) as string,
    );
    return {
      sha256: createHash('sha256')
        .update(readFileSync(join(dir, 'run', 'checkpoint', 'model.safetensors')))
        .digest('hex'),
      testAccuracy: metrics.test_accuracy,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function openApp(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 60_000 });
  return page;
}

/** Starts (or resumes) a run in the page and waits for it to end; stops the page's run at `pauseAtStep` if given. */
function runInPage(page: Page, how: 'start' | 'resume', pauseAtStep?: number) {
  return page.evaluate(
    async ({ settings, how, pauseAtStep }) => {
      const { session } = (globalThis as unknown as { fmnist: { session: import('../src/train/session').WorkerTrainSession } }).fmnist;
      return new Promise<{ state: string; sha256?: string; testAccuracy?: number; isolated: boolean; epochs?: number }>(
        (resolve, reject) => {
          session.addEventListener('progress', (e) => {
            if (pauseAtStep !== undefined && e.detail.step >= pauseAtStep) void session.pause();
          });
          session.addEventListener('state', (e) => {
            if (e.detail.state === 'failed') reject(new Error(e.detail.message));
            if (e.detail.state === 'paused') resolve({ state: 'paused', isolated: crossOriginIsolated });
          });
          session.addEventListener('done', async (e) => {
            const digest = await crypto.subtle.digest('SHA-256', e.detail.checkpointFiles['model.safetensors'] as Uint8Array<ArrayBuffer>);
            resolve({
              state: 'done',
              sha256: [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join(''),
              testAccuracy: e.detail.evaluation.accuracy,
              isolated: crossOriginIsolated,
              epochs: e.detail.epochs.length,
            });
          });
          (how === 'start' ? session.start(settings) : session.resume()).catch(reject);
        },
      );
    },
    { settings: SETTINGS, how, pauseAtStep },
  );
}

describe.skipIf(missing !== null)('training in Chromium is the trainer of fmnist train', () => {
  let browser: Browser;
  let isolated: Server;
  let plain: Server;
  let node: { sha256: string; testAccuracy: number };
  beforeAll(async () => {
    [browser, isolated, plain, node] = await Promise.all([
      launchChromium(),
      serveDist({ isolated: true }),
      serveDist({ isolated: false }),
      trainInNode(),
    ]);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await isolated?.close();
    await plain?.close();
  });

  it('cross-origin isolated (shared memory): bit-identical parameters after one epoch', async () => {
    const page = await openApp(browser, isolated.url);
    const run = await runInPage(page, 'start');
    expect(run.isolated).toBe(true);
    expect(run.sha256).toBe(node.sha256);
    expect(run.testAccuracy).toBe(node.testAccuracy);
    await page.close();
  }, 180_000);

  it('not isolated (messages to the kernels workers): the same bits', async () => {
    const page = await openApp(browser, plain.url);
    const run = await runInPage(page, 'start');
    expect(run.isolated).toBe(false);
    expect(run.sha256).toBe(node.sha256);
    await page.close();
  }, 180_000);

  it('pause, reload the page, resume from the IndexedDB checkpoint: the same bits', async () => {
    const page = await openApp(browser, isolated.url);
    const paused = await runInPage(page, 'start', 5);
    expect(paused.state).toBe('paused');
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 60_000 });
    const stored = await page.evaluate(() =>
      (globalThis as unknown as { fmnist: { session: { storedRun(): Promise<unknown> } } }).fmnist.session.storedRun(),
    );
    expect(stored).toMatchObject({ settings: SETTINGS, epoch: 0, step: expect.any(Number) });
    const resumed = await runInPage(page, 'resume');
    expect(resumed.state).toBe('done');
    expect(resumed.sha256).toBe(node.sha256);
    // a finished run is no longer offered for resuming
    expect(
      await page.evaluate(() =>
        (globalThis as unknown as { fmnist: { session: { storedRun(): Promise<unknown> } } }).fmnist.session.storedRun(),
      ),
    ).toBeUndefined();
    await page.close();
  }, 240_000);

  it('a second tab that starts a run while the first trains is told so, and the first run is untouched', async () => {
    const context = await browser.newContext();
    const open = async () => {
      const page = await context.newPage();
      await page.goto(isolated.url);
      await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 60_000 });
      return page;
    };
    const [first, second] = [await open(), await open()];
    const firstRun = runInPage(first, 'start');
    await first.waitForFunction(
      () => (globalThis as unknown as { fmnist: { session: { state: string } } }).fmnist.session.state === 'running',
    );
    await expect(runInPage(second, 'start')).rejects.toThrow(/Another tab of this app is training/);
    expect((await firstRun).sha256).toBe(node.sha256);
    await context.close();
  }, 240_000);
});
