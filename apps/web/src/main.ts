/**
 * Entry point: detects what the browser offers, loads the default model, wires the views. Everything runs in the page.
 */
import './style.css';
import { toModelInput } from '@fmnist/classify';
import { App } from './app';
import { describeEngine, detectCapabilities, type ProviderChoice } from './engine';
import { predictAll } from './evaluate';
import { formatPercent } from './model-info';
import { WorkerTrainSession } from './train/session';
import { byId } from './ui/dom';
import { setupTabs } from './ui/tabs';
import { setupDrawView } from './views/draw';
import { setupEvaluateView } from './views/evaluate-view';
import { setupGalleryView } from './views/gallery';
import { setupModelView } from './views/model-view';
import { setupTrainView } from './views/train-view';
import { setupUploadView } from './views/upload';

async function main(): Promise<void> {
  const modelStatus = byId('model-status');
  const engineStatus = byId('engine-status');
  const engineNote = byId('engine-note');
  const provider = byId<HTMLSelectElement>('provider');
  const fatal = byId('fatal');

  const caps = await detectCapabilities();
  const app = new App(caps);
  const session = new WorkerTrainSession();
  // A handle for the end-to-end tests and the benchmark.
  (globalThis as { fmnist?: unknown }).fmnist = { app, session, predictAll, toModelInput };
  const webgpuOption = provider.querySelector<HTMLOptionElement>('option[value="webgpu"]');
  if (webgpuOption && !caps.webgpu) {
    webgpuOption.textContent = caps.webgpuSoftware ? 'WebGPU (software)' : 'WebGPU (unavailable)';
    webgpuOption.title = caps.webgpuNote ?? '';
  }

  const updateStatus = () => {
    const engine = app.engine;
    if (!engine) return;
    const meta = engine.model.metadata;
    const acc = meta.metrics?.testAccuracy;
    modelStatus.textContent = `${engine.model.name} · ${meta.preset ?? 'custom'}${acc !== undefined ? ` · ${formatPercent(acc)} recorded` : ''}`;
    engineStatus.textContent = describeEngine(engine.info);
    engineStatus.dataset.provider = engine.info.provider;
    engineStatus.dataset.threads = String(engine.info.threads);
    engineNote.textContent = engine.info.note ?? '';
    engineNote.hidden = !engine.info.note;
    provider.value = engine.info.choice;
    document.body.dataset.ready = 'true';
  };
  app.addEventListener('engine', updateStatus);

  setupDrawView(app);
  setupUploadView(app);
  const gallery = setupGalleryView(app);
  const train = setupTrainView(app, session);
  const showTab = setupTabs(byId('tabs'), (name) => {
    if (name === 'gallery') gallery.activate();
    if (name === 'train') train.activate();
    if (name === 'evaluate') app.ensureTestSet().catch(() => undefined);
  });
  setupEvaluateView(app, (index) => {
    showTab('gallery');
    void gallery.select(index);
  });
  setupModelView(app);

  provider.addEventListener('change', async () => {
    const choice = provider.value as ProviderChoice;
    engineStatus.textContent = 'switching…';
    try {
      await app.setProvider(choice);
    } catch (err) {
      engineNote.textContent = `Could not switch: ${(err as Error).message}`;
      engineNote.hidden = false;
      updateStatus();
    }
  });

  try {
    await app.loadDefaultModel();
  } catch (err) {
    fatal.textContent = `The default model could not be loaded: ${(err as Error).message} You can still load your own on the Model tab.`;
    fatal.hidden = false;
    document.body.dataset.ready = 'error';
  }
  // Start fetching the test set in the background (4.4 MB) so the gallery and the evaluation are ready.
  app.ensureTestSet().catch(() => undefined);
}

void main();
