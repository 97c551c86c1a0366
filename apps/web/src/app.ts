/**
 * The app's state: the current model and engine, the provider choice, the test set and the model's predictions on it
 * (shared by the gallery and the evaluation). Views listen for its events.
 */
import type { FashionMnistSplit } from '@fmnist/data';
import { type Capabilities, createEngine, type Engine, type ProviderChoice } from './engine';
import { type Predictions, predictAll } from './evaluate';
import { inspectModel, type ModelInfo } from './model-info';
import { createSerialQueue } from './serial';
import { loadTestSet } from './test-set';
import { yieldToBrowser } from './ui/dom';

/** Events of {@link App}: `engine` (a new model or provider is live), `testset` (the test set arrived), `predictions`. */
export type AppEvent = 'engine' | 'testset' | 'predictions';

/** Progress of a whole-test-set run. */
export type ProgressListener = (done: number, total: number) => void;

/** URL of the shipped model, relative to the page. */
export const DEFAULT_MODEL_URL = './models/default.onnx';

/** Holds the state and does the loading; see the module comment. */
export class App extends EventTarget {
  engine: Engine | null = null;
  test: FashionMnistSplit | null = null;
  predictions: Predictions | null = null;
  choice: ProviderChoice = 'auto';
  private testSetPromise: Promise<FashionMnistSplit> | null = null;
  private predictionsPromise: Promise<Predictions> | null = null;
  private progressListeners = new Set<ProgressListener>();
  /** Counts whole-test-set runs, so only the latest one publishes its result. */
  private runs = 0;
  /** Serialises model/provider switches. */
  private readonly serialise = createSerialQueue();

  /** @param caps - detected browser capabilities */
  constructor(readonly caps: Capabilities) {
    super();
  }

  /** Emits an event. */
  private emit(type: AppEvent): void {
    this.dispatchEvent(new Event(type));
  }

  /**
   * Validates a model file and loads it with the current provider choice. On any failure the previous model stays.
   *
   * @param bytes - the `.onnx` file
   * @param name - its name
   * @returns the new engine
   * @throws ModelLoadError with a user-facing message
   */
  loadModel(bytes: Uint8Array, name: string): Promise<Engine> {
    return this.serialise(async () => {
      const model = inspectModel(bytes, name);
      return this.install(await createEngine(model, this.choice, this.caps));
    });
  }

  /**
   * Fetches and loads the shipped default model.
   *
   * @returns the engine
   */
  async loadDefaultModel(): Promise<Engine> {
    const response = await fetch(DEFAULT_MODEL_URL);
    if (!response.ok) throw new Error(`${DEFAULT_MODEL_URL}: HTTP ${response.status}; the build lacks public/models/default.onnx.`);
    return this.loadModel(new Uint8Array(await response.arrayBuffer()), 'default.onnx');
  }

  /**
   * Switches the execution provider, keeping the model. On failure the previous engine stays.
   *
   * @param choice - `auto`, `wasm` or `webgpu`
   * @returns the new engine
   */
  setProvider(choice: ProviderChoice): Promise<Engine> {
    return this.serialise(async () => {
      const model = this.engine?.model;
      if (!model) throw new Error('No model is loaded yet.');
      const engine = await createEngine(model, choice, this.caps);
      this.choice = choice;
      return this.install(engine);
    });
  }

  private install(engine: Engine): Engine {
    const old = this.engine;
    this.engine = engine;
    this.predictions = null;
    this.predictionsPromise = null;
    this.emit('engine');
    if (old) void old.dispose();
    return engine;
  }

  /** The current model, or throws. */
  get model(): ModelInfo {
    if (!this.engine) throw new Error('No model is loaded yet.');
    return this.engine.model;
  }

  /**
   * Loads the test set (once).
   *
   * @returns the split
   */
  ensureTestSet(): Promise<FashionMnistSplit> {
    if (!this.testSetPromise) {
      this.testSetPromise = loadTestSet().then((test) => {
        this.test = test;
        this.emit('testset');
        return test;
      });
      this.testSetPromise.catch(() => {
        this.testSetPromise = null;
      });
    }
    return this.testSetPromise;
  }

  /**
   * Runs the current engine on the whole test set (once per engine), reporting progress to every listener.
   *
   * @param onProgress - optional listener for this run
   * @returns the predictions
   */
  async ensurePredictions(onProgress?: ProgressListener): Promise<Predictions> {
    if (onProgress) this.progressListeners.add(onProgress);
    try {
      if (!this.predictionsPromise) {
        const engine = this.engine;
        if (!engine) throw new Error('No model is loaded yet.');
        const run = ++this.runs;
        const promise: Promise<Predictions> = (async () => {
          const test = await this.ensureTestSet();
          const p = await predictAll(engine, test.images, engine.model.metadata.classNames.length, {
            onProgress: (done, total) => {
              for (const l of this.progressListeners) l(done, total);
            },
            yieldBetween: yieldToBrowser,
          });
          if (this.engine === engine && this.runs === run) {
            this.predictions = p;
            this.emit('predictions');
          }
          return p;
        })();
        this.predictionsPromise = promise;
        promise.catch(() => {
          if (this.predictionsPromise === promise) this.predictionsPromise = null;
        });
      }
      return await this.predictionsPromise;
    } finally {
      if (onProgress) this.progressListeners.delete(onProgress);
    }
  }

  /**
   * Runs the whole test set again, timing it (the evaluation view's button).
   *
   * @param onProgress - progress listener
   * @returns fresh predictions with their time
   */
  reevaluate(onProgress?: ProgressListener): Promise<Predictions> {
    this.predictions = null;
    this.predictionsPromise = null;
    return this.ensurePredictions(onProgress);
  }
}
