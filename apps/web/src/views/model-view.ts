/**
 * Your model: drop (or pick) any `.onnx` exported by fmnist; its model card comes from the metadata. A file that is not
 * a valid fmnist model gets a clear message and the previous model stays.
 */
import type { App } from '../app';
import { describeModel } from '../model-info';
import { byId, h, makeDropZone, readBytes } from '../ui/dom';

/**
 * Wires the Model view.
 *
 * @param app - the app state
 *
 * @example
 * ```ts
 * setupModelView(app);
 * ```
 */
export function setupModelView(app: App): void {
  const card = byId('model-card');
  const zone = byId('model-drop');
  const fileInput = byId<HTMLInputElement>('model-file');
  const reset = byId<HTMLButtonElement>('model-default');
  const error = byId('model-error');
  const status = byId('model-load-status');

  const renderCard = () => {
    const engine = app.engine;
    if (!engine) return;
    card.replaceChildren(...describeModel(engine.model).flatMap((row) => [h('dt', {}, row.label), h('dd', {}, row.value)]));
    card.dataset.model = engine.model.name;
    reset.disabled = engine.model.name === 'default.onnx';
  };

  const load = async (file: File) => {
    error.hidden = true;
    status.textContent = `Loading “${file.name}”…`;
    try {
      await app.loadModel(await readBytes(file), file.name);
      status.textContent = `Now using “${file.name}”.`;
    } catch (err) {
      const previous = app.engine?.model.name;
      error.textContent = `${(err as Error).message}${previous ? ` Still using “${previous}”.` : ''}`;
      error.hidden = false;
      status.textContent = '';
    }
  };

  makeDropZone(zone, (files) => void load(files[0] as File));
  fileInput.addEventListener('change', () => {
    const file = fileInput.files?.[0];
    if (file) void load(file);
    fileInput.value = '';
  });
  reset.addEventListener('click', async () => {
    error.hidden = true;
    try {
      await app.loadDefaultModel();
      status.textContent = 'Back to the default model.';
    } catch (err) {
      error.textContent = (err as Error).message;
      error.hidden = false;
    }
  });
  app.addEventListener('engine', renderCard);
  renderCard();
}
