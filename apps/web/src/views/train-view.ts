/**
 * Train: a run of `@fmnist/model`'s trainer in web workers (the {@link TrainSession}), from a preset's recipe the user
 * can change; live status, loss and accuracy curves; at the end the confusion matrix, the trained model installed as
 * the app's model, and its downloads (ONNX fp32 / int8, the checkpoint as a run directory zip, the report). The state
 * logic is in `../train/view-state.ts`, the validation in `../train/settings.ts`; this module is the DOM.
 */
import { CLASS_NAMES } from '@fmnist/data';
import type { App } from '../app';
import { formatPercent } from '../model-info';
import { accuracyCurves, accuracyDomain, type ChartBox, lossDomain } from '../train/curves';
import { describeStoredRun, formatDuration, formatSpeed, formatStatus, STATE_LABELS } from '../train/format';
import { renderRunReportHtml } from '../train/report';
import { checkpointZip, exportRunOnnx, runName } from '../train/run-files';
import type { FinishedRun, StoredRun, TrainSession } from '../train/session-types';
import {
  defaultFormValues,
  FIELD_LABELS,
  formValuesOf,
  PRESET_CHOICES,
  parseTrainForm,
  recipeFormValues,
  type TrainField,
  type TrainFormValues,
} from '../train/settings';
import { createThrottle } from '../train/throttle';
import { controlsFor, statusAttributes, TrainTracker } from '../train/view-state';
import { renderConfusionTable } from '../ui/confusion-table';
import { byId, h, yieldToBrowser } from '../ui/dom';
import { drawLineChart } from '../ui/line-chart';

/** The text inputs of the form, by field. */
const TEXT_FIELDS = ['epochs', 'batchSize', 'learningRate', 'weightDecay', 'labelSmoothing', 'shift', 'erase', 'subset', 'seed'] as const;

/** Element ids of the form's fields. */
const FIELD_IDS: Readonly<Record<TrainField, string>> = {
  preset: 'train-preset',
  epochs: 'train-epochs',
  batchSize: 'train-batch-size',
  learningRate: 'train-lr',
  lrSchedule: 'train-schedule',
  weightDecay: 'train-weight-decay',
  labelSmoothing: 'train-label-smoothing',
  shift: 'train-shift',
  flip: 'train-flip',
  erase: 'train-erase',
  subset: 'train-subset',
  seed: 'train-seed',
};

/**
 * A chart's box for an `<svg>` of this width on screen: drawn at its own size (so the labels keep their size on a
 * phone), 0.42 as high as wide.
 */
function chartBox(svg: SVGSVGElement): ChartBox {
  const width = Math.round(Math.min(720, Math.max(280, svg.clientWidth || 480)));
  return { width, height: Math.round(width * 0.42), pad: { left: 44, right: 12, top: 10, bottom: 26 } };
}

/**
 * Offers a file for download through a Blob URL.
 *
 * @param data - the bytes or text
 * @param name - the file name
 * @param type - its MIME type
 */
function download(data: Uint8Array | string, name: string, type: string): void {
  const url = URL.createObjectURL(new Blob([data as BlobPart], { type }));
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  // The download has its own reference by now; the URL is only needed for the click.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * Wires the Train view.
 *
 * @param app - the app state (the trained model is installed into it)
 * @param session - the training session
 * @returns `activate`, to call when the tab is shown (redraws the curves at the panel's size)
 *
 * @example
 * ```ts
 * const train = setupTrainView(app, new WorkerTrainSession());
 * train.activate();
 * ```
 */
export function setupTrainView(app: App, session: TrainSession): { activate(): void } {
  const form = byId<HTMLFormElement>('train-form');
  const fieldset = byId<HTMLFieldSetElement>('train-fieldset');
  const preset = byId<HTMLSelectElement>('train-preset');
  const schedule = byId<HTMLSelectElement>('train-schedule');
  const flip = byId<HTMLInputElement>('train-flip');
  const inputs = Object.fromEntries(TEXT_FIELDS.map((f) => [f, byId<HTMLInputElement>(FIELD_IDS[f])])) as Record<
    (typeof TEXT_FIELDS)[number],
    HTMLInputElement
  >;
  const formError = byId('train-form-error');
  const start = byId<HTMLButtonElement>('train-start');
  const pause = byId<HTMLButtonElement>('train-pause');
  const stop = byId<HTMLButtonElement>('train-stop');
  const status = byId('train-status');
  const announce = byId('train-announce');
  const downloadBar = byId<HTMLProgressElement>('train-download');
  const error = byId('train-error');
  const figures = byId('train-figures');
  const lossChart = byId('train-loss-chart') as unknown as SVGSVGElement;
  const accChart = byId('train-acc-chart') as unknown as SVGSVGElement;
  const offer = byId('train-offer');
  const offerText = byId('train-offer-text');
  const offerResume = byId<HTMLButtonElement>('train-offer-resume');
  const offerDiscard = byId<HTMLButtonElement>('train-offer-discard');
  const results = byId('train-results');
  const stats = byId('train-stats');
  const modelNote = byId('train-model-note');
  const confusion = byId<HTMLTableElement>('train-confusion');
  const dlOnnx = byId<HTMLButtonElement>('train-download-onnx');
  const dlInt8 = byId<HTMLButtonElement>('train-download-int8');
  const dlCheckpoint = byId<HTMLButtonElement>('train-download-checkpoint');
  const dlReport = byId<HTMLButtonElement>('train-download-report');
  const dlError = byId('train-download-error');
  const dlHint = byId('train-download-hint');

  preset.replaceChildren(...PRESET_CHOICES.map((p) => h('option', { value: p }, p)));

  // ——— the form ———
  const readForm = (): TrainFormValues => ({
    preset: preset.value,
    lrSchedule: schedule.value,
    flip: flip.checked,
    ...(Object.fromEntries(TEXT_FIELDS.map((f) => [f, inputs[f].value])) as Record<(typeof TEXT_FIELDS)[number], string>),
  });
  const writeForm = (v: Partial<TrainFormValues>) => {
    if (v.preset !== undefined) preset.value = v.preset;
    if (v.lrSchedule !== undefined) schedule.value = v.lrSchedule;
    if (v.flip !== undefined) flip.checked = v.flip;
    for (const f of TEXT_FIELDS) if (v[f] !== undefined) inputs[f].value = v[f] as string;
  };
  const fieldError = (f: TrainField) => byId(`${FIELD_IDS[f]}-error`);
  const clearErrors = () => {
    formError.hidden = true;
    formError.replaceChildren();
    for (const f of Object.keys(FIELD_IDS) as TrainField[]) {
      byId(FIELD_IDS[f]).removeAttribute('aria-invalid');
      const e = fieldError(f);
      e.textContent = '';
      e.hidden = true;
    }
  };
  writeForm(defaultFormValues());
  preset.addEventListener('change', () => {
    writeForm(recipeFormValues(preset.value));
    clearErrors();
  });
  form.addEventListener('input', (e) => {
    // Typing into a field clears its message (the form is checked again on Start).
    const target = e.target as HTMLElement;
    const field = (Object.keys(FIELD_IDS) as TrainField[]).find((f) => FIELD_IDS[f] === target.id);
    if (field && target.getAttribute('aria-invalid') === 'true') {
      target.removeAttribute('aria-invalid');
      fieldError(field).hidden = true;
    }
  });

  // ——— rendering ———
  let lastAnnounced = '';
  const say = (text: string) => {
    if (text === lastAnnounced) return;
    lastAnnounced = text;
    announce.textContent = text;
  };
  const renderControls = () => {
    const c = controlsFor(tracker.snapshot.state);
    fieldset.disabled = !c.formEnabled;
    start.disabled = !c.startEnabled || busy;
    pause.disabled = !c.pauseEnabled || busy;
    pause.textContent = c.pauseLabel;
    pause.setAttribute('aria-label', c.pauseLabel === 'Pause' ? 'Pause training' : 'Resume training');
    stop.disabled = !c.stopEnabled || busy;
    start.textContent = tracker.snapshot.finished || tracker.snapshot.state === 'failed' ? 'Train again' : 'Start training';
  };
  const renderStatus = () => {
    const s = tracker.snapshot;
    for (const [k, v] of Object.entries(statusAttributes(s))) {
      if (v === undefined) delete status.dataset[k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())];
      else status.setAttribute(`data-${k}`, v);
    }
    status.textContent = formatStatus(s);
    const loading = s.state === 'loading';
    downloadBar.hidden = !loading;
    if (loading) {
      const d = s.download;
      if (d?.total) {
        downloadBar.max = d.total;
        downloadBar.value = Math.min(d.loaded, d.total);
      } else downloadBar.removeAttribute('value');
    }
    error.hidden = s.state !== 'failed';
    const model = app.engine?.model.name;
    error.textContent =
      s.state === 'failed'
        ? `Training failed: ${s.message ?? 'no reason given.'}${model ? ` The app keeps its model, “${model}”.` : ''}`
        : '';
  };
  const renderCharts = () => {
    const s = tracker.snapshot;
    const p = s.progress;
    const points = tracker.loss.points();
    const totalSteps = p ? p.epochs * p.steps : Math.max(1, points.at(-1)?.x ?? 1);
    drawLineChart(lossChart, {
      box: chartBox(lossChart),
      x: { min: 0, max: totalSteps },
      y: lossDomain(points),
      series: [{ points, className: 'loss' }],
      emptyText: 'The training loss appears here once a run starts.',
      formatX: (v) => v.toLocaleString('en-US'),
      formatY: (v) => v.toFixed(v >= 10 ? 0 : 1),
    });
    const acc = accuracyCurves(s.epochs);
    const epochs = p?.epochs ?? s.finished?.settings.epochs ?? Math.max(1, s.epochs.length);
    drawLineChart(accChart, {
      box: chartBox(accChart),
      // Half an epoch of room on each side, so the first and last points are off the axes.
      x: { min: 0.5, max: Math.max(epochs, 1) + 0.5 },
      y: accuracyDomain([...acc.train, ...acc.test]),
      series: [
        { points: acc.train, className: 'train', markers: true },
        { points: acc.test, className: 'test', markers: true },
      ],
      formatX: (v) => String(v),
      formatY: (v) => `${Math.round(v * 100)} %`,
      integerX: true,
      yTicks: 5,
      emptyText: 'Accuracies appear after each epoch.',
    });
    figures.dataset.lossPoints = String(points.length);
    figures.dataset.epochs = String(s.epochs.length);
  };
  const draw = createThrottle(() => {
    renderStatus();
    renderCharts();
  });
  let busy = false;
  const tracker = new TrainTracker(session, (change) => {
    const s = tracker.snapshot;
    if (change === 'progress' || change === 'download') {
      draw.request();
      return;
    }
    draw.request();
    draw.flush();
    renderControls();
    if (change === 'state') {
      say(s.state === 'failed' ? `Training failed: ${s.message ?? ''}` : STATE_LABELS[s.state]);
      if (s.state === 'loading' || s.state === 'running') offer.hidden = true;
    }
    if (change === 'epoch') {
      const r = s.epochs.at(-1);
      if (r) say(`Epoch ${r.epoch} done${r.testAccuracy !== undefined ? `: test accuracy ${formatPercent(r.testAccuracy)}` : ''}.`);
    }
    if (change === 'done' && s.finished) void finish(s.finished);
  });

  // ——— the end of a run ———
  let finished: { run: FinishedRun; name: string; onnx: Uint8Array | null } | null = null;
  const finish = async (run: FinishedRun) => {
    const name = runName(run);
    finished = { run, name, onnx: null };
    const e = run.evaluation;
    const last = run.epochs.at(-1);
    const figuresList: [string, string, string][] = [
      ['accuracy', 'Test accuracy', formatPercent(e.accuracy)],
      ['loss', 'Test loss', Number.isFinite(e.loss) ? e.loss.toFixed(4) : '—'],
      ['epochs', 'Epochs', `${last?.epoch ?? 0} / ${run.settings.epochs}${run.stopReason === 'aborted' ? ' (stopped)' : ''}`],
      ['time', 'Training time', formatDuration(run.trainTimeMs / 1000)],
      ['speed', 'Speed', formatSpeed(last?.imagesPerSecond ?? Number.NaN)],
      ['engine', 'Engine', `${run.backend} · ${run.threads} thread${run.threads === 1 ? '' : 's'}`],
    ];
    stats.replaceChildren(
      ...figuresList.map(([key, label, value]) =>
        h(
          'div',
          { class: 'stat', 'data-stat': key },
          h('dt', {}, label),
          h('dd', { class: key === 'engine' ? 'small' : undefined }, value),
        ),
      ),
    );
    stats.dataset.accuracy = String(e.accuracy);
    const names = e.confusion.length === CLASS_NAMES.length ? [...CLASS_NAMES] : e.confusion.map((_, i) => String(i));
    renderConfusionTable(confusion, e.confusion, names, `Confusion matrix on ${e.predictions.length.toLocaleString('en-US')} test images`);
    dlError.hidden = true;
    const code = (text: string) => h('code', {}, text);
    dlHint.replaceChildren(
      'The checkpoint unzips to the run directory ',
      code(`${name}/`),
      ' for the CLI: ',
      code(`fmnist eval ${name}`),
      ', ',
      code(`fmnist export ${name}`),
      ', ',
      code(`fmnist train --resume ${name} --epochs ${run.settings.epochs + 1}`),
      '.',
    );
    modelNote.classList.remove('error');
    modelNote.textContent = 'Installing the trained model…';
    delete results.dataset.model;
    results.hidden = false;
    for (const b of [dlOnnx, dlInt8, dlCheckpoint, dlReport]) b.disabled = false;
    // Let the results paint before the install (the trainer worker exported the model; a page-side export is the fallback).
    await yieldToBrowser();
    const previous = app.engine?.model.name;
    try {
      const onnx = run.onnx ?? exportRunOnnx(run);
      if (finished?.run !== run) return;
      finished.onnx = onnx;
      await app.loadModel(onnx, `${name}.onnx`);
      modelNote.textContent = `“${name}.onnx” is now the app's model: Draw, Upload, Test set, Evaluate and the Model card use it.`;
      results.dataset.model = `${name}.onnx`;
    } catch (err) {
      modelNote.classList.add('error');
      modelNote.textContent = `The trained model could not be installed: ${(err as Error).message}${previous ? ` Still using “${previous}”.` : ''}`;
      results.dataset.model = '';
    }
  };

  const guardedDownload = async (button: HTMLButtonElement, make: (f: NonNullable<typeof finished>) => Promise<void> | void) => {
    const f = finished;
    if (!f) return;
    button.disabled = true;
    dlError.hidden = true;
    try {
      await yieldToBrowser();
      await make(f);
    } catch (err) {
      dlError.textContent = `${button.textContent?.trim()}: ${(err as Error).message}`;
      dlError.hidden = false;
    } finally {
      button.disabled = false;
    }
  };
  dlOnnx.addEventListener('click', () =>
    guardedDownload(dlOnnx, (f) => {
      f.onnx ??= exportRunOnnx(f.run);
      download(f.onnx, 'model.onnx', 'application/octet-stream');
    }),
  );
  dlInt8.addEventListener('click', () =>
    guardedDownload(dlInt8, (f) => download(exportRunOnnx(f.run, 'int8'), 'model.int8.onnx', 'application/octet-stream')),
  );
  dlCheckpoint.addEventListener('click', () =>
    guardedDownload(dlCheckpoint, (f) => download(checkpointZip(f.run, f.name), `${f.name}.zip`, 'application/zip')),
  );
  dlReport.addEventListener('click', () =>
    guardedDownload(dlReport, async (f) =>
      download(renderRunReportHtml(f.run, await app.ensureTestSet()), `${f.name}-report.html`, 'text/html;charset=utf-8'),
    ),
  );

  // ——— the buttons ———
  /** Runs a session call with the buttons held, showing its failure. */
  const act = async (what: string, call: () => Promise<void>) => {
    busy = true;
    renderControls();
    try {
      await call();
    } catch (err) {
      formError.textContent = `Could not ${what}: ${(err as Error).message}`;
      formError.hidden = false;
    } finally {
      busy = false;
      renderControls();
    }
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearErrors();
    const parsed = parseTrainForm(readForm());
    if (!parsed.ok) {
      for (const { field, message } of parsed.errors) {
        byId(FIELD_IDS[field]).setAttribute('aria-invalid', 'true');
        const el = fieldError(field);
        // The field's label says which field it is; its own message keeps the full sentence for the summary.
        el.textContent = message.replace(`${FIELD_LABELS[field]}: `, '');
        el.hidden = false;
      }
      formError.replaceChildren(
        h('span', {}, 'The run was not started. Fix these settings:'),
        h('ul', {}, ...parsed.errors.map((err) => h('li', {}, err.message))),
      );
      formError.hidden = false;
      byId(FIELD_IDS[(parsed.errors[0] as { field: TrainField }).field]).focus();
      return;
    }
    offer.hidden = true;
    results.hidden = true;
    finished = null;
    tracker.reset();
    void act('start training', () => session.start(parsed.settings));
  });
  pause.addEventListener('click', () => {
    if (session.state === 'paused') void act('resume', () => session.resume());
    else void act('pause', () => session.pause());
  });
  stop.addEventListener('click', () => void act('stop', () => session.stop()));

  // ——— a run kept by an earlier visit ———
  const offerStored = (run: StoredRun) => {
    offerText.textContent = describeStoredRun(run);
    // The form shows what Resume continues.
    writeForm(formValuesOf(run.settings));
    offer.hidden = false;
  };
  let stored: StoredRun | undefined;
  offerResume.addEventListener('click', () => {
    offer.hidden = true;
    if (stored) writeForm(formValuesOf(stored.settings));
    results.hidden = true;
    finished = null;
    tracker.reset();
    void act('resume the stored run', () => session.resume());
  });
  offerDiscard.addEventListener('click', () => {
    offer.hidden = true;
    writeForm(defaultFormValues());
    void act('discard the stored run', () => session.discardStoredRun());
  });
  session
    .storedRun()
    .then((run) => {
      stored = run;
      if (run && session.state === 'idle') offerStored(run);
    })
    .catch(() => undefined);

  window.addEventListener('resize', () => draw.request());
  renderControls();
  renderStatus();
  renderCharts();
  return { activate: () => draw.request() };
}
