/**
 * The page's training session ({@link TrainSession}): starts the trainer worker (trainer-worker.ts), relays its
 * messages as events and keeps the state machine (idle → loading → running ⇄ paused → done | failed). The page only
 * receives small messages at most ~10 times a second, so it stays responsive while training.
 */
import { clearRunRecord, storedRunInfo } from './idb-store';
import type { TrainerEvent, TrainerRequest } from './protocol';
import type { StoredRun, TrainSession, TrainSessionEventMap, TrainSettings, TrainState } from './session-types';

/** The part of a `Worker` the session uses (tests substitute one). */
export interface TrainerPort {
  postMessage(message: TrainerRequest): void;
  onmessage: ((event: MessageEvent<TrainerEvent>) => void) | null;
  onerror: ((event: ErrorEvent) => void) | null;
  terminate(): void;
}

/** Options of {@link WorkerTrainSession}. */
export interface TrainSessionOptions {
  /** Starts the trainer worker. @defaultValue a module worker on trainer-worker.ts */
  spawn?: () => TrainerPort;
  /** Where the data files are, relative to the page. @defaultValue `./data/` */
  baseUrl?: string;
  /** The stored run's info (tests substitute). @defaultValue IndexedDB */
  storedRun?: () => Promise<StoredRun | undefined>;
  /** Forgets the stored run. @defaultValue IndexedDB */
  discardStoredRun?: () => Promise<void>;
}

const spawnTrainer = (): TrainerPort =>
  new Worker(new URL('./trainer-worker.ts', import.meta.url), { type: 'module', name: 'fmnist-trainer' }) as unknown as TrainerPort;

/** A fresh run id. */
function newRunId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  return c?.randomUUID ? c.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/** Absolute URL of the data directory (a worker resolves relative URLs against its own script, not the page). */
function absolute(url: string): string {
  return new URL(url, globalThis.location?.href ?? 'http://localhost/').href;
}

/** Runs one training at a time in a trainer web worker; see the module comment. */
export class WorkerTrainSession extends EventTarget implements TrainSession {
  private current: TrainState = 'idle';
  private worker: TrainerPort | undefined;
  private settings: TrainSettings | undefined;
  /** The current run's id (a fresh start makes one; a resume takes the stored run's). */
  private runId: string | undefined;
  /** True while resume() looks up the stored run (no state says so yet, and another call must not launch meanwhile). */
  private lookingUp = false;
  private readonly spawn: () => TrainerPort;

  constructor(private readonly options: TrainSessionOptions = {}) {
    super();
    this.spawn = options.spawn ?? spawnTrainer;
  }

  get state(): TrainState {
    return this.current;
  }

  override addEventListener<K extends keyof TrainSessionEventMap>(
    type: K,
    listener: (event: CustomEvent<TrainSessionEventMap[K]>) => void,
    options?: AddEventListenerOptions,
  ): void;
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: AddEventListenerOptions): void;
  override addEventListener(type: string, listener: unknown, options?: AddEventListenerOptions): void {
    super.addEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }

  async start(settings: TrainSettings): Promise<void> {
    this.assertNotBusy('start');
    this.settings = settings;
    this.runId = newRunId();
    this.launch(settings, 'start');
  }

  async pause(): Promise<void> {
    if (this.current !== 'running' && this.current !== 'loading') return;
    this.worker?.postMessage({ type: 'pause' });
  }

  async resume(): Promise<void> {
    this.assertNotBusy('resume');
    let settings = this.current === 'paused' ? this.settings : undefined;
    if (!settings) {
      this.lookingUp = true;
      let stored: StoredRun | undefined;
      try {
        stored = await this.storedRun();
      } finally {
        this.lookingUp = false;
      }
      if (!stored) throw new Error('There is no paused or stored run to resume; start a new one.');
      settings = stored.settings;
      this.runId = stored.runId;
    }
    this.settings = settings;
    this.launch(settings, 'resume');
  }

  async stop(): Promise<void> {
    if (this.current === 'paused') {
      // A paused run ends from its checkpoint as it is (evaluated, then done), without another step.
      this.launch(this.settings as TrainSettings, 'finish');
      return;
    }
    if (this.current !== 'running' && this.current !== 'loading') return;
    this.worker?.postMessage({ type: 'stop' });
  }

  storedRun(): Promise<StoredRun | undefined> {
    return (this.options.storedRun ?? storedRunInfo)();
  }

  discardStoredRun(): Promise<void> {
    return (this.options.discardStoredRun ?? clearRunRecord)();
  }

  private assertNotBusy(what: string): void {
    if (this.lookingUp || this.current === 'loading' || this.current === 'running') {
      throw new Error(`A run is in progress; pause or stop it before you ${what} another.`);
    }
  }

  private launch(settings: TrainSettings, how: 'start' | 'resume' | 'finish'): void {
    this.worker?.terminate();
    const worker = this.spawn();
    this.worker = worker;
    worker.onmessage = ({ data }) => {
      if (this.worker === worker) this.receive(data);
    };
    worker.onerror = (event) => {
      event.preventDefault?.();
      if (this.worker !== worker) return;
      this.fail(`The trainer stopped unexpectedly: ${event.message || 'its worker could not start'}.`);
    };
    const baseUrl = absolute(this.options.baseUrl ?? './data/');
    const runId = this.runId as string;
    worker.postMessage(
      how === 'finish'
        ? { type: 'finish', runId, settings, baseUrl }
        : { type: 'start', runId, settings, resume: how === 'resume', baseUrl },
    );
    this.setState('loading');
  }

  private receive(event: TrainerEvent): void {
    switch (event.type) {
      case 'state':
        this.setState(event.state);
        if (event.state === 'paused') this.retire();
        break;
      case 'download':
        this.emit('download', event.progress);
        break;
      case 'progress':
        this.emit('progress', event.progress);
        break;
      case 'epoch':
        this.emit('epoch', event.record);
        break;
      case 'done':
        this.retire();
        this.setState('done');
        this.emit('done', event.run);
        break;
      case 'failed':
        this.fail(event.message);
        break;
    }
  }

  /** Ends the worker (and its kernels workers) once a run has ended. */
  private retire(): void {
    this.worker?.terminate();
    this.worker = undefined;
  }

  private fail(message: string): void {
    this.retire();
    this.setState('failed', message);
  }

  private setState(state: TrainState, message?: string): void {
    this.current = state;
    this.emit('state', { state, ...(message !== undefined ? { message } : {}) });
  }

  private emit<K extends keyof TrainSessionEventMap>(type: K, detail: TrainSessionEventMap[K]): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
