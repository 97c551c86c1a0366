/**
 * The built app in Debian's Chromium: drawing, uploads, the gallery, the whole-test-set evaluation and model loading,
 * checked against the CLI (`fmnist predict` / `fmnist eval`, onnxruntime-node) on the same `.onnx` file. Screenshots of
 * every view, desktop and phone, go to `test-artifacts/`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getImage, loadFashionMnist } from '@fmnist/data';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app';
import { randomBytes, rewriteOnnx } from '../src/test-helpers';
import { ARTIFACTS_DIR, type CliEval, type CliPrediction, DIST_MODEL, launchChromium, missingPrerequisite, runCli } from './harness';
import { encodePng, upscale } from './png';
// @ts-expect-error: plain JavaScript module without types
import { serveDist } from './serve.mjs';

const missing = missingPrerequisite();
if (missing) {
  if (process.env.CI && process.env.CI !== 'false') throw new Error(`End-to-end tests cannot run: ${missing}`);
  console.warn(`\n⚠ SKIPPING the end-to-end tests: ${missing}\n`);
}

/** 20 test images spread over the set (the first one is in the gallery's first page). */
const INDICES = [0, ...Array.from({ length: 19 }, (_, k) => 7 + k * 526)];
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

type Server = { url: string; close: () => Promise<void> };

async function openApp(context: BrowserContext, url: string, hash = 'draw'): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(`${err.message}`));
  await page.goto(`${url}#${hash}`);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 60_000 });
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS_DIR, `${name}.png`), fullPage: true });
}

/** Probabilities shown in a list of probability bars, by class. */
async function shownProbabilities(page: Page, list: string): Promise<number[]> {
  return page.$$eval(`${list} li`, (items) => items.map((li) => Number((li as HTMLElement).dataset.probability)));
}

/** Drags the mouse along `points` (fractions of the pad) as one stroke. */
async function stroke(page: Page, points: [number, number][]): Promise<void> {
  const box = await page.locator('#draw-pad').boundingBox();
  if (!box) throw new Error('no drawing pad');
  const at = ([fx, fy]: [number, number]) => [box.x + fx * box.width, box.y + fy * box.height] as const;
  const [x0, y0] = at(points[0] as [number, number]);
  await page.mouse.move(x0, y0);
  await page.mouse.down();
  for (const p of points.slice(1)) {
    const [x, y] = at(p);
    await page.mouse.move(x, y, { steps: 8 });
  }
  await page.mouse.up();
}

/** Draws a pair of trousers: waistband and two legs. */
async function drawTrousers(page: Page): Promise<void> {
  await stroke(page, [
    [0.3, 0.12],
    [0.7, 0.12],
  ]);
  await stroke(page, [
    [0.32, 0.12],
    [0.28, 0.9],
  ]);
  await stroke(page, [
    [0.68, 0.12],
    [0.72, 0.9],
  ]);
  await stroke(page, [
    [0.5, 0.14],
    [0.47, 0.5],
  ]);
}

async function predictedName(page: Page, selector: string): Promise<string> {
  await page.waitForFunction((sel) => document.querySelector(sel)?.hasAttribute('data-predicted'), selector);
  return (await page.textContent(selector))?.split(' — ')[0] ?? '';
}

const pageErrors: string[] = [];

describe.skipIf(missing !== null)('the web app in Chromium', () => {
  let server: Server;
  let browser: Browser;
  let desktop: BrowserContext;
  let page: Page;
  let cliEval: Promise<CliEval>;
  let cliPredict: Promise<{ predictions: CliPrediction[] }>;
  let testImages: Uint8Array[];
  let model: Uint8Array;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    model = new Uint8Array(readFileSync(DIST_MODEL));
    // The CLI runs the same file with onnxruntime-node, meanwhile.
    cliEval = runCli<CliEval>(['eval', DIST_MODEL]);
    cliPredict = runCli(['predict', DIST_MODEL, ...INDICES.flatMap((i) => ['--test-index', String(i)]), '--top', '10']);
    cliEval.catch(() => undefined);
    cliPredict.catch(() => undefined);
    server = await serveDist();
    browser = await launchChromium();
    desktop = await browser.newContext({ viewport: DESKTOP });
    page = await openApp(desktop, server.url);
    const { test } = await loadFashionMnist({ download: false });
    testImages = [1, 2].map((i) => getImage(test, i));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('loads the default model on the fmnist kernels, one web worker per core', async () => {
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(await page.textContent('#model-status')).toMatch(/^default\.onnx · patch-mlp · 81\.\d\d % recorded$/);
    const status = page.locator('#engine-status');
    expect(await status.getAttribute('data-provider')).toBe('kernels');
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const workers = Math.min(4, cores);
    expect(await status.textContent()).toBe(`fmnist kernels · WebAssembly SIMD · ${workers} worker${workers === 1 ? '' : 's'}`);
    // No WebGPU in a GPU-less headless browser: Auto does not offer it.
    expect(await page.textContent('#provider option[value="webgpu"]')).toBe('WebGPU (unavailable)');
  });

  it('draws strokes and predicts live, shows the 28×28 input, undoes and clears', async () => {
    await page.locator('#tab-draw').click();
    await drawTrousers(page);
    expect(await predictedName(page, '#draw-result')).toBe('Trouser');
    const probs = await shownProbabilities(page, '#draw-probs');
    expect(probs).toHaveLength(10);
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    // The model input canvas is not blank.
    const lit = await page.$eval('#draw-input', (c) => {
      const data = (c as HTMLCanvasElement).getContext('2d')?.getImageData(0, 0, 28, 28).data ?? [];
      let n = 0;
      for (let i = 0; i < data.length; i += 4) if ((data[i] as number) > 128) n++;
      return n;
    });
    expect(lit).toBeGreaterThan(40);
    await shot(page, 'desktop-draw');
    await page.keyboard.press('Control+z');
    await page.locator('#draw-undo').click();
    await page.locator('#draw-clear').click();
    await expect.poll(() => page.textContent('#draw-result')).toMatch(/^Draw a garment/);
    expect(await page.locator('#draw-undo').isDisabled()).toBe(true);
    // Keyboard users can start from a test image.
    await page.locator('#draw-sample').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.textContent('#draw-result')).toMatch(/ — \d+\.\d %$/);
    await page.locator('#draw-clear').click();
  });

  it.each(['kernels', 'wasm'] as const)('gives the same predictions as `fmnist predict` for 20 test images (%s)', async (provider) => {
    const ours = await page.evaluate(
      async ([indices, provider]) => {
        const { app, toModelInput } = (globalThis as unknown as { fmnist: { app: App; toModelInput: (p: Uint8Array) => Float32Array } })
          .fmnist;
        const test = await app.ensureTestSet();
        const engine = await app.setProvider(provider);
        if (engine.info.provider !== provider) throw new Error(`asked for ${provider}, got ${engine.info.provider}`);
        const out: number[][] = [];
        for (const i of indices) out.push(Array.from(await engine.run(toModelInput(test.images.subarray(i * 784, (i + 1) * 784)), 1)));
        await app.setProvider('auto');
        return out;
      },
      [INDICES, provider] as const,
    );
    const { predictions } = await cliPredict;
    expect(predictions).toHaveLength(INDICES.length);
    for (const [k, pred] of predictions.entries()) {
      const theirs = new Array<number>(10).fill(0);
      for (const t of pred.top) theirs[t.class] = t.probability;
      const mine = ours[k] as number[];
      for (let c = 0; c < 10; c++)
        expect(Math.abs((mine[c] as number) - (theirs[c] as number)), `image ${INDICES[k]} class ${c}`).toBeLessThan(1e-4);
      expect(mine.indexOf(Math.max(...mine)), `image ${INDICES[k]}`).toBe(pred.label);
    }
  });

  it.each(['wasm', 'auto'] as const)('evaluates the whole test set in the page with the accuracy of `fmnist eval` (%s)', async (choice) => {
    await page.selectOption('#provider', choice);
    await page.waitForFunction(
      (want) => document.querySelector('#engine-status')?.getAttribute('data-provider') === want,
      choice === 'auto' ? 'kernels' : choice,
    );
    await page.locator('#tab-evaluate').click();
    await page.locator('#eval-run').click();
    await page.waitForSelector('#eval-results:not([hidden])', { timeout: 120_000 });
    const accuracy = Number(await page.getAttribute('#eval-stats', 'data-accuracy'));
    const cli = await cliEval;
    expect(cli.images).toBe(10_000);
    // Within 0.01 percentage points.
    expect(Math.abs(accuracy - cli.accuracy)).toBeLessThanOrEqual(0.0001);
    const confusion = await page.$$eval('#eval-confusion tbody tr', (rows) =>
      rows.map((r) =>
        Array.from(r.querySelectorAll('td'))
          .slice(0, 10)
          .map((td) => Number(td.textContent)),
      ),
    );
    let differences = 0;
    for (let i = 0; i < 10; i++)
      for (let j = 0; j < 10; j++) differences += Math.abs((confusion[i]?.[j] ?? 0) - (cli.confusion[i]?.[j] ?? 0));
    expect(differences).toBeLessThanOrEqual(2);
    const wrong = 10_000 - cli.confusion.reduce((s, row, i) => s + (row[i] as number), 0);
    expect(await page.textContent('#eval-mistakes-title')).toBe(`Misclassified: ${wrong.toLocaleString('en-US')} images`);
    expect(await page.locator('#eval-mistakes li').count()).toBe(60);
    expect(await page.textContent('[data-stat="speed"] dd')).toMatch(/images\/s$/);
    expect(await page.textContent('[data-stat="per-image"] dd')).toMatch(/ms$/);
    if (choice === 'auto') await shot(page, 'desktop-evaluate');
  });

  it('browses the test set, filters by class and outcome, and shows probabilities', async () => {
    await page.locator('#tab-gallery').click();
    await page.waitForSelector('#gallery-grid .thumb');
    expect(await page.locator('#gallery-grid .thumb').count()).toBe(96);
    expect(await page.textContent('#gallery-status')).toMatch(/^Images 1–96 of 10,000 \(page 1 of 105\)$/);
    // Image 0 in the detail panel: same probabilities as the CLI.
    await page.locator('#gallery-grid .thumb[data-index="0"]').click();
    await page.waitForSelector('#gallery-detail:not([hidden])');
    const shown = await shownProbabilities(page, '#gallery-detail-probs');
    const cli = (await cliPredict).predictions[0] as CliPrediction;
    for (const t of cli.top) expect(Math.abs((shown[t.class] as number) - t.probability)).toBeLessThan(1e-4);
    expect(await page.textContent('#gallery-detail-title')).toMatch(/^Test image #0: Ankle boot — predicted /);
    await page.locator('#gallery-next').click();
    expect(await page.textContent('#gallery-status')).toMatch(/page 2 of 105/);
    // Shirts the model gets wrong: as many as the CLI's confusion matrix says.
    await page.selectOption('#gallery-class', '6');
    await page.selectOption('#gallery-outcome', 'wrong');
    const confusion = (await cliEval).confusion;
    const rightShirts = confusion[6]?.[6] ?? Number.NaN;
    const wrongShirts = 1000 - rightShirts;
    await expect.poll(() => page.textContent('#gallery-status')).toContain(`of ${wrongShirts.toLocaleString('en-US')}`);
    const labels = await page.$$eval('#gallery-grid .thumb', (ts) => ts.map((t) => t.getAttribute('aria-label') ?? ''));
    expect(labels.length).toBe(Math.min(96, wrongShirts));
    for (const l of labels) expect(l).toMatch(/^Test image \d+: Shirt, predicted .+ \(wrong\)$/);
    await page.locator('#gallery-grid .thumb').first().click();
    await page.waitForFunction(() => document.querySelector('#gallery-detail-title')?.textContent?.includes('✗'));
    await shot(page, 'desktop-gallery');
    await page.selectOption('#gallery-outcome', 'correct');
    await expect.poll(() => page.textContent('#gallery-status')).toContain(`of ${rightShirts.toLocaleString('en-US')}`);
    await page.selectOption('#gallery-class', 'all');
    await page.selectOption('#gallery-outcome', 'all');
  });

  it('classifies uploaded photos as `fmnist predict --auto-invert` does', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fmnist-web-e2e-'));
    try {
      // A light-on-dark picture (×4) and a brownish dark-on-light photo (×5) of test images 1 and 2.
      const a = upscale(testImages[0] as Uint8Array, 4);
      const b = upscale(testImages[1] as Uint8Array, 5, (v) => [250 - v * 0.85, 244 - v * 0.87, 236 - v * 0.9]);
      const files = [join(dir, 'light-on-dark.png'), join(dir, 'dark-on-light.png')];
      writeFileSync(files[0] as string, encodePng(a.data, a.width, a.height, a.channels));
      writeFileSync(files[1] as string, encodePng(b.data, b.width, b.height, b.channels));
      const { predictions } = await runCli<{ predictions: CliPrediction[] }>([
        'predict',
        DIST_MODEL,
        ...files,
        '--auto-invert',
        '--top',
        '10',
      ]);
      await page.locator('#tab-upload').click();
      for (const [k, file] of files.entries()) {
        await page.evaluate(() => document.querySelector('#upload-result')?.removeAttribute('data-predicted'));
        await page.setInputFiles('#upload-file', file);
        const name = await predictedName(page, '#upload-result');
        const cli = predictions[k] as CliPrediction;
        expect(name, file).toBe(cli.className);
        expect(await page.textContent('#upload-note')).toContain(
          k === 0 ? 'dark background found' : 'inverted (auto: light background found)',
        );
        const shown = await shownProbabilities(page, '#upload-probs');
        for (const t of cli.top) expect(Math.abs((shown[t.class] as number) - t.probability), `${file} class ${t.name}`).toBeLessThan(0.03);
      }
      await shot(page, 'desktop-upload');
      // Forcing "don't invert" on the dark-on-light photo changes what the model sees.
      await page.selectOption('#upload-invert', 'none');
      await expect.poll(() => page.textContent('#upload-note')).not.toContain('inverted');
    } finally {
      await rm(dir, { recursive: true, force: true });
      await page.selectOption('#upload-invert', 'auto');
    }
  });

  it('works on a phone-sized touch screen', async () => {
    // The same page (its test set and evaluation already loaded) at a phone's size, with touch input.
    await page.setViewportSize(PHONE);
    const cdp = await desktop.newCDPSession(page);
    await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: true, maxTouchPoints: 5 });
    try {
      const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      await page.locator('#tab-draw').click();
      await page.evaluate(() => window.scrollTo(0, 0));
      expect(await overflow()).toBeLessThanOrEqual(0);
      // All six tabs fit, without scrolling the tab bar.
      expect(await page.$eval('#tabs', (t) => t.scrollWidth - t.clientWidth)).toBeLessThanOrEqual(0);
      // Draw with a finger (real touch events through the DevTools protocol).
      const box = await page.locator('#draw-pad').boundingBox();
      if (!box) throw new Error('no pad');
      const touch = async (type: 'touchStart' | 'touchMove' | 'touchEnd', fx: number, fy: number) =>
        cdp.send('Input.dispatchTouchEvent', {
          type,
          touchPoints: type === 'touchEnd' ? [] : [{ x: box.x + fx * box.width, y: box.y + fy * box.height }],
        });
      for (const [x0, y0, x1, y1] of [
        [0.3, 0.12, 0.7, 0.12],
        [0.32, 0.12, 0.28, 0.9],
        [0.68, 0.12, 0.72, 0.9],
      ] as const) {
        await touch('touchStart', x0, y0);
        for (let s = 1; s <= 8; s++) await touch('touchMove', x0 + ((x1 - x0) * s) / 8, y0 + ((y1 - y0) * s) / 8);
        await touch('touchEnd', x1, y1);
      }
      expect(await predictedName(page, '#draw-result')).toBe('Trouser');
      await shot(page, 'phone-draw');
      for (const view of ['upload', 'gallery', 'evaluate', 'model', 'train']) {
        await page.locator(`#tab-${view}`).click();
        if (view === 'gallery') {
          await page.locator('#gallery-grid .thumb').nth(5).click();
          await page.waitForFunction(() => document.querySelector('#gallery-detail-title')?.textContent?.startsWith('Test image #'));
        }
        expect(await overflow(), view).toBeLessThanOrEqual(0);
        await shot(page, `phone-${view}`);
      }
    } finally {
      await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: false });
      await cdp.detach();
      await page.setViewportSize(DESKTOP);
    }
  });

  it('is keyboard usable: arrow keys, Home and End move between the views', async () => {
    await page.locator('#tab-draw').focus();
    await page.locator('#tab-draw').click();
    await page.keyboard.press('ArrowRight');
    expect(await page.getAttribute('#tab-upload', 'aria-selected')).toBe('true');
    expect(await page.isVisible('#panel-upload')).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('tab-upload');
    await page.keyboard.press('End');
    expect(await page.isVisible('#panel-train')).toBe(true);
    await page.keyboard.press('ArrowRight');
    expect(await page.isVisible('#panel-draw')).toBe(true);
    expect(await page.evaluate(() => location.hash)).toBe('#draw');
    // Every form control has an accessible name.
    const unnamed = await page.$$eval('button, select, input', (els) =>
      els
        .filter((el) => {
          const e = el as HTMLInputElement;
          const named =
            e.labels?.length ||
            e.getAttribute('aria-label') ||
            e.getAttribute('aria-labelledby') ||
            (e.tagName === 'BUTTON' && e.textContent?.trim());
          return !named;
        })
        .map((el) => el.outerHTML.slice(0, 80)),
    );
    expect(unnamed).toEqual([]);
  });

  it('refuses corrupt and foreign model files with a clear message and keeps the previous model', async () => {
    await page.locator('#tab-model').click();
    const card = page.locator('#model-card');
    expect(await card.getAttribute('data-model')).toBe('default.onnx');
    expect(await card.textContent()).toContain('patch-mlp');
    const cases: [string, Uint8Array, RegExp][] = [
      ['x.onnx', randomBytes(4096, 7), /“x\.onnx” is not an ONNX model \(4 KiB that do not parse as one\)/],
      ['empty.onnx', new Uint8Array(0), /“empty\.onnx” is empty/],
      [
        'resnet.onnx',
        rewriteOnnx(model, { producerName: 'pytorch', metadata: () => new Map() }),
        /“resnet\.onnx” is an ONNX model, but not a Fashion-MNIST model.*pytorch/,
      ],
      [
        'broken.onnx',
        rewriteOnnx(model, { graph: new Uint8Array(0) }),
        /“broken\.onnx” is an fmnist model this app cannot run: The model has no graph input to feed images to/,
      ],
    ];
    for (const [name, bytes, message] of cases) {
      await page.setInputFiles('#model-file', { name, mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
      await page.waitForFunction((n) => document.querySelector('#model-error')?.textContent?.includes(n), name);
      const text = (await page.textContent('#model-error')) ?? '';
      expect(text, name).toMatch(message);
      expect(text).toContain('Still using “default.onnx”.');
      expect(await card.getAttribute('data-model')).toBe('default.onnx');
      expect(await page.textContent('#model-status')).toMatch(/^default\.onnx/);
    }
    await shot(page, 'desktop-model-error');
    // The app still predicts with the old model.
    await page.locator('#tab-draw').click();
    await drawTrousers(page);
    expect(await predictedName(page, '#draw-result')).toBe('Trouser');
    await page.locator('#draw-clear').click();
  });

  it('loads a dropped fmnist model, shows its card, and goes back to the default', async () => {
    await page.locator('#tab-model').click();
    const mine = rewriteOnnx(model, { metadata: (m) => new Map(m).set('trained_at', '2025-01-02T03:04:05.000Z') });
    await page.evaluate((bytes) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], 'mine.onnx'));
      document
        .querySelector('#model-drop')
        ?.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, Array.from(mine));
    await page.waitForFunction(() => document.querySelector('#model-card')?.getAttribute('data-model') === 'mine.onnx');
    expect(await page.isHidden('#model-error')).toBe(true);
    expect(await page.textContent('#model-status')).toMatch(/^mine\.onnx · patch-mlp/);
    expect(await page.textContent('#model-card')).toContain('2025-01-02 03:04:05 UTC');
    await shot(page, 'desktop-model');
    await page.locator('#model-default').click();
    await page.waitForFunction(() => document.querySelector('#model-card')?.getAttribute('data-model') === 'default.onnx');
  });

  it('keeps every core without cross-origin isolation on the kernels; onnxruntime falls back to 1 thread and says so', async () => {
    const plain = await serveDist({ isolated: false });
    const context = await browser.newContext({ viewport: DESKTOP });
    try {
      const p = await openApp(context, plain.url);
      expect(await p.evaluate(() => crossOriginIsolated)).toBe(false);
      const workers = Math.min(4, await p.evaluate(() => navigator.hardwareConcurrency));
      expect(await p.textContent('#engine-status')).toBe(
        `fmnist kernels · WebAssembly SIMD · ${workers} worker${workers === 1 ? '' : 's'}`,
      );
      expect(await p.isHidden('#engine-note')).toBe(true);
      await drawTrousers(p);
      expect(await predictedName(p, '#draw-result')).toBe('Trouser');
      await p.selectOption('#provider', 'wasm');
      await p.waitForFunction(() => document.querySelector('#engine-status')?.getAttribute('data-provider') === 'wasm');
      expect(await p.textContent('#engine-status')).toBe('onnxruntime · WebAssembly SIMD · 1 thread');
      expect(await p.textContent('#engine-note')).toMatch(/not cross-origin isolated/);
      await p.locator('#draw-clear').click();
      await expect.poll(() => p.textContent('#draw-result')).toMatch(/^Draw a garment/);
      await drawTrousers(p);
      expect(await predictedName(p, '#draw-result')).toBe('Trouser');
    } finally {
      await context.close();
      await plain.close();
    }
  });

  it('switches the execution provider on request, falling back from WebGPU with a reason', async () => {
    await page.selectOption('#provider', 'webgpu');
    await page.waitForFunction(() => document.querySelector('#engine-note')?.textContent?.includes('WebGPU'));
    expect(await page.textContent('#engine-note')).toMatch(/^WebGPU unavailable: .+; using WebAssembly$/);
    expect(await page.getAttribute('#engine-status', 'data-provider')).toBe('wasm');
    await page.selectOption('#provider', 'wasm');
    await page.waitForFunction(() => document.querySelector('#engine-note')?.hasAttribute('hidden'));
    expect(await page.getAttribute('#engine-status', 'data-provider')).toBe('wasm');
    await page.selectOption('#provider', 'kernels');
    await page.waitForFunction(() => document.querySelector('#engine-status')?.getAttribute('data-provider') === 'kernels');
    await page.selectOption('#provider', 'auto');
  });

  it('raised no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});

/**
 * The WebGPU execution provider on Chromium's software GPU (SwiftShader): slow (shader compilation takes seconds), so
 * opt-in with FMNIST_E2E_WEBGPU=1. Checks that the WebGPU build loads from the app's assets and computes the same
 * probabilities as the CLI.
 */
describe.skipIf(missing !== null || !process.env.FMNIST_E2E_WEBGPU)('WebGPU on a software adapter (FMNIST_E2E_WEBGPU=1)', () => {
  it('runs the model on WebGPU when picked, with the probabilities of `fmnist predict`', async () => {
    const cli = runCli<{ predictions: CliPrediction[] }>(['predict', DIST_MODEL, '--test-index', '0', '--top', '10']);
    const server: Server = await serveDist();
    const browser = await launchChromium(['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--enable-unsafe-swiftshader']);
    try {
      const page = await openApp(await browser.newContext({ viewport: DESKTOP }), server.url, 'gallery');
      // A software adapter is never picked by Auto…
      expect(await page.getAttribute('#engine-status', 'data-provider')).toBe('kernels');
      expect(await page.textContent('#provider option[value="webgpu"]')).toBe('WebGPU (software)');
      // …but can be chosen.
      await page.selectOption('#provider', 'webgpu');
      await page.waitForFunction(() => document.querySelector('#engine-status')?.getAttribute('data-provider') === 'webgpu', null, {
        timeout: 120_000,
      });
      expect(await page.textContent('#engine-status')).toBe('onnxruntime · WebGPU');
      const ours = await page.evaluate(async () => {
        const { app, toModelInput } = (globalThis as unknown as { fmnist: { app: App; toModelInput: (p: Uint8Array) => Float32Array } })
          .fmnist;
        const test = await app.ensureTestSet();
        return Array.from(await (app.engine as NonNullable<App['engine']>).run(toModelInput(test.images.subarray(0, 784)), 1));
      });
      const theirs = ((await cli).predictions[0] as CliPrediction).top;
      for (const t of theirs) expect(Math.abs((ours[t.class] as number) - t.probability)).toBeLessThan(1e-4);
    } finally {
      await browser.close();
      await server.close();
    }
  }, 240_000);
});
