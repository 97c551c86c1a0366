/**
 * Test set: the 10,000 test images, filterable by true class and by whether the model got them right, a page at a time;
 * selecting one shows its probabilities.
 */

import { toModelInput } from '@fmnist/classify';
import { IMAGE_PIXELS } from '@fmnist/data';
import type { App } from '../app';
import { byId, h } from '../ui/dom';
import { drawPixels, imageCanvas } from '../ui/pixels';
import { renderProbabilities } from '../ui/probability-bars';

/** Thumbnails per page. */
export const GALLERY_PAGE_SIZE = 96;

/** The gallery's public handle: other views can open an image in it. */
export interface GalleryView {
  /** Shows test image `index` in the detail panel (switching filters off if they hide it). */
  select(index: number): Promise<void>;
}

/**
 * Wires the Test set view.
 *
 * @param app - the app state
 * @param onActivate - called to make sure the gallery's data is being loaded
 * @returns a handle to select images
 *
 * @example
 * ```ts
 * const gallery = setupGalleryView(app);
 * await gallery.select(42);
 * ```
 */
export function setupGalleryView(app: App): GalleryView & { activate(): void } {
  const classFilter = byId<HTMLSelectElement>('gallery-class');
  const outcomeFilter = byId<HTMLSelectElement>('gallery-outcome');
  const grid = byId('gallery-grid');
  const status = byId('gallery-status');
  const prev = byId<HTMLButtonElement>('gallery-prev');
  const next = byId<HTMLButtonElement>('gallery-next');
  const progress = byId<HTMLProgressElement>('gallery-progress');
  const detail = byId('gallery-detail');
  const detailImage = byId<HTMLCanvasElement>('gallery-detail-image');
  const detailTitle = byId('gallery-detail-title');
  const detailProbs = byId<HTMLOListElement>('gallery-detail-probs');
  let page = 0;
  let selected = -1;
  let filtered: number[] = [];

  const classNames = () => app.engine?.model.metadata.classNames ?? [];

  const fillClassFilter = () => {
    const names = classNames();
    if (names.length === 0 || classFilter.options.length === names.length + 1) return;
    const value = classFilter.value;
    classFilter.replaceChildren(
      h('option', { value: 'all' }, 'All classes'),
      ...names.map((n, c) => h('option', { value: c }, `${c} · ${n}`)),
    );
    classFilter.value = value || 'all';
  };

  const applyFilters = () => {
    const test = app.test;
    if (!test) return;
    const cls = classFilter.value === 'all' ? -1 : Number(classFilter.value);
    const outcome = outcomeFilter.value;
    const pred = app.predictions?.predicted;
    filtered = [];
    for (let i = 0; i < test.count; i++) {
      if (cls >= 0 && test.labels[i] !== cls) continue;
      if (outcome !== 'all') {
        if (!pred) continue;
        const right = pred[i] === test.labels[i];
        if ((outcome === 'correct') !== right) continue;
      }
      filtered.push(i);
    }
  };

  const render = () => {
    const test = app.test;
    if (!test) return;
    const pages = Math.max(1, Math.ceil(filtered.length / GALLERY_PAGE_SIZE));
    page = Math.min(page, pages - 1);
    const from = page * GALLERY_PAGE_SIZE;
    const shown = filtered.slice(from, from + GALLERY_PAGE_SIZE);
    const names = classNames();
    const pred = app.predictions?.predicted;
    const needPredictions = outcomeFilter.value !== 'all' && !pred;
    grid.replaceChildren(
      ...shown.map((i) => {
        const label = test.labels[i] as number;
        const p = pred?.[i];
        const verdict = p === undefined ? '' : p === label ? 'correct' : 'wrong';
        const text = `Test image ${i}: ${names[label]}${p === undefined ? '' : p === label ? ', predicted correctly' : `, predicted ${names[p]} (wrong)`}`;
        return h(
          'button',
          {
            type: 'button',
            class: `thumb ${verdict}`,
            'data-index': i,
            'aria-label': text,
            title: text,
            'aria-pressed': i === selected ? 'true' : 'false',
          },
          imageCanvas(test.images, i, 'thumb-pixels'),
        );
      }),
    );
    status.textContent = needPredictions
      ? 'Running the model on the test set…'
      : filtered.length === 0
        ? 'No test image matches these filters.'
        : `Images ${from + 1}–${from + shown.length} of ${filtered.length.toLocaleString('en-US')} (page ${page + 1} of ${pages})`;
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
  };

  const refresh = () => {
    fillClassFilter();
    applyFilters();
    render();
  };

  const showDetail = async (index: number) => {
    const test = app.test;
    const engine = app.engine;
    if (!test || !engine) return;
    selected = index;
    for (const b of grid.querySelectorAll<HTMLButtonElement>('.thumb'))
      b.setAttribute('aria-pressed', String(Number(b.dataset.index) === index));
    const pixels = test.images.subarray(index * IMAGE_PIXELS, (index + 1) * IMAGE_PIXELS);
    drawPixels(detailImage, pixels);
    const label = test.labels[index] as number;
    const names = engine.model.metadata.classNames;
    const cached = app.predictions;
    const p = cached
      ? cached.probabilities.subarray(index * cached.classes, (index + 1) * cached.classes)
      : await engine.run(toModelInput(pixels), 1);
    const best = renderProbabilities(detailProbs, p, names, { trueLabel: label });
    detailTitle.textContent = `Test image #${index}: ${names[label]} — predicted ${names[best]} ${best === label ? '✓' : '✗'}`;
    detail.dataset.index = String(index);
    detail.dataset.predicted = String(best);
    detail.hidden = false;
    // On a phone the panel sits above the grid: bring it into view.
    if (matchMedia('(max-width: 760px)').matches) detail.scrollIntoView({ block: 'nearest' });
  };

  grid.addEventListener('click', (e) => {
    const button = (e.target as HTMLElement).closest<HTMLButtonElement>('.thumb');
    if (button) void showDetail(Number(button.dataset.index));
  });
  classFilter.addEventListener('change', () => {
    page = 0;
    refresh();
  });
  outcomeFilter.addEventListener('change', () => {
    page = 0;
    refresh();
    if (outcomeFilter.value !== 'all') void computePredictions();
  });
  prev.addEventListener('click', () => {
    page = Math.max(0, page - 1);
    render();
  });
  next.addEventListener('click', () => {
    page++;
    render();
  });

  const computePredictions = async () => {
    if (app.predictions || !app.engine) return;
    progress.hidden = false;
    progress.value = 0;
    try {
      await app.ensurePredictions((done, total) => {
        progress.value = done / total;
      });
    } catch (err) {
      status.textContent = `Could not run the model on the test set: ${(err as Error).message}`;
    } finally {
      progress.hidden = true;
    }
  };

  app.addEventListener('testset', refresh);
  app.addEventListener('predictions', () => {
    refresh();
    if (selected >= 0) void showDetail(selected);
  });
  app.addEventListener('engine', () => {
    refresh();
    if (!byId('panel-gallery').hidden) void computePredictions();
    if (selected >= 0) void showDetail(selected);
  });

  return {
    activate() {
      if (!app.test) {
        status.textContent = 'Loading the 10,000 test images…';
        app.ensureTestSet().catch((err: Error) => {
          status.textContent = `Could not load the test set: ${err.message}`;
        });
      }
      void computePredictions();
    },
    async select(index: number) {
      await app.ensureTestSet();
      const test = app.test;
      if (!test) return;
      if (!filtered.includes(index)) {
        classFilter.value = 'all';
        outcomeFilter.value = 'all';
        applyFilters();
      }
      page = Math.floor(filtered.indexOf(index) / GALLERY_PAGE_SIZE);
      render();
      await showDetail(index);
    },
  };
}
