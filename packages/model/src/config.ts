import type { Augmentation } from '@fmnist/data';
import { FmnistModelError } from './errors';

/** Activation inside the MLPs: exact GELU (erf form), ReLU, or none (linear). */
export type Activation = 'gelu' | 'relu' | 'none';

/** Weight initialisation of the Linear layers (biases are always 0). */
export type InitConfig =
  /** Every weight ~ N(0, std²). The coursework's literal reading is `std: 1`. */
  | { kind: 'normal'; std: number }
  /** Every weight ~ N(0, 1 / fan_in) (LeCun normal): a sane scale whatever the layer width. */
  | { kind: 'fan-in' };

/** Full description of a patch-MLP / MLP-Mixer. */
export interface ModelConfig {
  /** Side of the square patches in pixels; must divide 28. */
  patchSize: number;
  /** Features per patch after the embedding. */
  dim: number;
  /** Hidden width of the token-mixing MLP (mixes across patches). */
  tokenHidden: number;
  /** Hidden width of the channel-mixing MLP (mixes features). */
  channelHidden: number;
  /** Number of (token-mixing, channel-mixing) blocks. */
  blocks: number;
  /** Activation inside both MLPs. */
  activation: Activation;
  /** `layernorm`: pre-norm before each MLP and a final norm (MLP-Mixer); `none`: no normalisation (the coursework). */
  norm: 'none' | 'layernorm';
  /** Add each MLP's input to its output (MLP-Mixer). */
  residual: boolean;
  /** Weight initialisation. */
  init: InitConfig;
  /** Output classes. */
  numClasses: number;
  /** Seed of the initialisation. */
  seed: number;
}

/** Names of the built-in presets. */
export type PresetName = 'coursework' | 'patch-mlp' | 'mixer-s' | 'mixer-s7' | 'mixer-s7-long' | 'mixer-m' | 'mixer-l';

/** Older names of presets, still accepted wherever a preset name is read (see {@link PRESET_ALIASES}). */
export type PresetAlias = 'seed';

/**
 * Older preset names and the preset each now stands for. `seed` was the coursework preset's name until it was renamed
 * `coursework` (it was easily confused with the `--seed` option). Every place that reads a preset name — {@link
 * resolveConfig}, `createModel`, checkpoints, run configs, ONNX metadata, the CLI's `--preset` — accepts an alias and
 * turns it into the canonical name ({@link canonicalPresetName}), which is what new files record.
 */
export const PRESET_ALIASES: Readonly<Record<PresetAlias, PresetName>> = Object.freeze({ seed: 'coursework' });

/**
 * The canonical name of a preset, from its name or an alias ({@link PRESET_ALIASES}).
 *
 * @param name - a preset name, an alias, or anything else
 * @returns the canonical {@link PresetName}, or `undefined` when `name` is neither a preset nor an alias
 *
 * @example
 * ```ts
 * canonicalPresetName('seed'); // 'coursework'
 * canonicalPresetName('mixer-s7'); // 'mixer-s7'
 * canonicalPresetName('tiny'); // undefined
 * ```
 */
export function canonicalPresetName(name: unknown): PresetName | undefined {
  if (typeof name !== 'string') return undefined;
  if (Object.hasOwn(PRESETS, name)) return name as PresetName;
  return Object.hasOwn(PRESET_ALIASES, name) ? PRESET_ALIASES[name as PresetAlias] : undefined;
}

const COURSEWORK = { patchSize: 4, dim: 128, tokenHidden: 128, channelHidden: 128, blocks: 1, numClasses: 10, seed: 0 } as const;

const MIXER_S: ModelConfig = {
  ...COURSEWORK,
  dim: 128,
  tokenHidden: 64,
  channelHidden: 256,
  blocks: 4,
  activation: 'gelu',
  norm: 'layernorm',
  residual: true,
  init: { kind: 'fan-in' },
};
const MIXER_M: ModelConfig = { ...MIXER_S, channelHidden: 512 };
/** `mixer-s` on 7×7 patches: the model of `mixer-s7` and `mixer-s7-long`. */
const MIXER_S7: ModelConfig = { ...MIXER_S, patchSize: 7 };

/**
 * The built-in presets.
 *
 * - `coursework` (alias `seed`, its name before) — the coursework read literally: one block, no norm, no residual, GELU, every weight ~ N(0, 1), biases 0;
 *   49,211 parameters. Starts with a huge loss and saturates slowly, as the coursework reports.
 * - `patch-mlp` — the same architecture with fan-in scaled init: reaches the coursework's 80.1 % in about one epoch.
 * - `mixer-s` — MLP-Mixer: 4 blocks of pre-LayerNorm token/channel MLPs with residuals, GELU, channel MLP 2× wide:
 *   90.3 % test accuracy after its 30-epoch recipe (cosine, shift ±1 + flip) on 2 cores.
 * - `mixer-s7` — `mixer-s` on 7×7 patches (16 tokens instead of 49): 282,186 parameters and ≈ 2.5× the training
 *   speed, so its 14-epoch recipe (peak lr 3e-3, weight decay 0.05, label smoothing 0.1) fits in about 10 minutes on
 *   2 cores; chosen on a validation split (docs/experiments/time-to-accuracy.md).
 * - `mixer-s7-long` — the same model as `mixer-s7`, with a 50-epoch recipe: `mixer-s7`'s plus Random Erasing p 0.25,
 *   for ≥ 91 % in under half an hour on 2 cores; chosen on a 10,000-image validation split, against a wider 7×7 Mixer
 *   in the same time (docs/experiments/time-to-accuracy.md).
 * - `mixer-m` — `mixer-s` with the channel MLP 4× wide (128→512→128, the MLP-Mixer paper's ratio): 90.73 % after the
 *   same 30-epoch recipe, ≈ 2× the time per step.
 * - `mixer-l` — `mixer-m` twice as deep (8 blocks): 91.09 % after the same recipe, ≈ 2.2× `mixer-m`'s time per step
 *   (≈ 2 h 40 min on 2 cores).
 */
export const PRESETS: Readonly<Record<PresetName, Readonly<ModelConfig>>> = Object.freeze({
  coursework: { ...COURSEWORK, activation: 'gelu', norm: 'none', residual: false, init: { kind: 'normal', std: 1 } },
  'patch-mlp': { ...COURSEWORK, activation: 'gelu', norm: 'none', residual: false, init: { kind: 'fan-in' } },
  'mixer-s': MIXER_S,
  'mixer-s7': MIXER_S7,
  'mixer-s7-long': MIXER_S7,
  'mixer-m': MIXER_M,
  'mixer-l': { ...MIXER_M, blocks: 8 },
} satisfies Record<PresetName, ModelConfig>);

/** Every name {@link canonicalPresetName} accepts: the presets, then the aliases (`coursework`, …, `mixer-l`, `seed`). */
export const PRESET_NAMES_AND_ALIASES: readonly (PresetName | PresetAlias)[] = Object.freeze([
  ...(Object.keys(PRESETS) as PresetName[]),
  ...(Object.keys(PRESET_ALIASES) as PresetAlias[]),
]);

/** How a preset is meant to be trained: the settings behind the accuracy its documentation reports. */
export interface TrainingRecipe {
  /** Epochs. */
  epochs: number;
  /** Adam's (peak) learning rate. */
  learningRate: number;
  /** `constant`, or `cosine` annealing to 0 over all epochs. */
  lrSchedule: 'constant' | 'cosine';
  /** AdamW's decoupled weight decay on Linear weights (0: plain Adam). */
  weightDecay: number;
  /** Training-time augmentation, or `null` for none. */
  augment: Augmentation | null;
  /** Label smoothing of the training loss (0: plain cross-entropy). */
  labelSmoothing: number;
  /**
   * Evaluate the test set after every `evalEvery` epochs, and always after the last (`train()`'s `evalEvery`). 1 for
   * every preset but the 7×7 Mixers, whose 10,000-image evaluation (≈ 2 s) after each epoch would add ≈ 25–100 s to
   * runs timed against a budget: `mixer-s7` evaluates after epochs 7 and 14, `mixer-s7-long` after every 10th of its 50.
   */
  evalEvery: number;
}

const MIXER_RECIPE: TrainingRecipe = {
  epochs: 30,
  learningRate: 1e-3,
  lrSchedule: 'cosine',
  weightDecay: 0,
  augment: { shift: 1, flip: true },
  labelSmoothing: 0,
  evalEvery: 1,
};

/** `mixer-s7`'s 14-epoch recipe; `mixer-s7-long` is it for 50 epochs with Random Erasing. */
const MIXER_S7_RECIPE: TrainingRecipe = {
  epochs: 14,
  learningRate: 3e-3,
  lrSchedule: 'cosine',
  weightDecay: 0.05,
  augment: { shift: 1, flip: true },
  labelSmoothing: 0.1,
  evalEvery: 7,
};

/**
 * The recipe of each preset — what `fmnist train --preset NAME` uses unless flags say otherwise.
 * `coursework` and `patch-mlp` follow the coursework (constant learning rate, no augmentation; 3 epochs as a quick
 * default — the coursework ran 2000); the Mixers need a cosine schedule and light augmentation to generalise.
 */
export const TRAINING_RECIPES: Readonly<Record<PresetName, Readonly<TrainingRecipe>>> = Object.freeze({
  coursework: { epochs: 3, learningRate: 1e-3, lrSchedule: 'constant', weightDecay: 0, augment: null, labelSmoothing: 0, evalEvery: 1 },
  'patch-mlp': { epochs: 3, learningRate: 1e-3, lrSchedule: 'constant', weightDecay: 0, augment: null, labelSmoothing: 0, evalEvery: 1 },
  'mixer-s': MIXER_RECIPE,
  'mixer-s7': MIXER_S7_RECIPE,
  'mixer-s7-long': { ...MIXER_S7_RECIPE, epochs: 50, augment: { shift: 1, flip: true, erase: 0.25 }, evalEvery: 10 },
  'mixer-m': MIXER_RECIPE,
  'mixer-l': MIXER_RECIPE,
} satisfies Record<PresetName, TrainingRecipe>);

/** The default preset for training: the fast way to the coursework's accuracy. */
export const DEFAULT_PRESET: PresetName = 'patch-mlp';

/** Image side in pixels. */
export const IMAGE_SIZE = 28;

/**
 * Resolves a preset name or a (partial) config into a full, validated config. A partial config is laid over the
 * `preset` it names (default {@link DEFAULT_PRESET}). An alias ({@link PRESET_ALIASES}, e.g. `seed`) stands for its preset.
 *
 * @param presetOrConfig - a {@link PresetName} or {@link PresetAlias}, or config fields plus an optional `preset` to start from
 * @returns the full config
 * @throws FmnistModelError `E_CONFIG` naming the bad field and the valid choices
 *
 * @example
 * ```ts
 * resolveConfig('coursework').init; // { kind: 'normal', std: 1 }
 * resolveConfig('seed').init; // the same preset under its old name
 * resolveConfig({ preset: 'patch-mlp', activation: 'relu' }).activation; // 'relu'
 * ```
 */
export function resolveConfig(
  presetOrConfig: PresetName | PresetAlias | (Partial<ModelConfig> & { preset?: PresetName | PresetAlias }) = DEFAULT_PRESET,
): ModelConfig {
  if (presetOrConfig === null || (typeof presetOrConfig !== 'string' && typeof presetOrConfig !== 'object')) {
    throw new FmnistModelError(
      'E_CONFIG',
      `A model is a preset name or a config object, got ${presetOrConfig === null ? 'null' : typeof presetOrConfig}. Choose one of: ${Object.keys(PRESETS).join(', ')}.`,
    );
  }
  const { preset = DEFAULT_PRESET, ...overrides } = typeof presetOrConfig === 'string' ? { preset: presetOrConfig } : presetOrConfig;
  const name = canonicalPresetName(preset);
  const base = name && PRESETS[name];
  if (!base) {
    throw new FmnistModelError('E_CONFIG', `Unknown preset '${String(preset)}'. Choose one of: ${Object.keys(PRESETS).join(', ')}.`);
  }
  const config: ModelConfig = { ...base, init: { ...base.init }, ...overrides } as ModelConfig;
  validateConfig(config);
  return config;
}

/** Largest `patchSize`, `dim`, `tokenHidden` and `channelHidden` of a config. */
export const MAX_WIDTH = 65_536;
/** Largest `blocks` of a config. */
export const MAX_BLOCKS = 1_024;
/** Largest `numClasses` of a config. */
export const MAX_CLASSES = 1_000;
/** Most parameters a config may describe (400 MB of float32; the largest preset has 1.1 M). */
export const MAX_PARAMETERS = 100_000_000;

function fail(field: string, expected: string, got: unknown): never {
  throw new FmnistModelError('E_CONFIG', `Model config '${field}' must be ${expected}, got ${JSON.stringify(got)}.`);
}

/**
 * Checks every field of a config.
 * @param config - the config to check
 * @throws FmnistModelError `E_CONFIG`
 */
export function validateConfig(config: ModelConfig): void {
  if (config === null || typeof config !== 'object') {
    throw new FmnistModelError('E_CONFIG', `A model config must be an object, got ${config === null ? 'null' : typeof config}.`);
  }
  const posInt = (field: keyof ModelConfig, max: number) => {
    const v = config[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > max) fail(field, `an integer from 1 to ${max}`, v);
  };
  for (const f of ['patchSize', 'dim', 'tokenHidden', 'channelHidden'] as const) posInt(f, MAX_WIDTH);
  posInt('blocks', MAX_BLOCKS);
  posInt('numClasses', MAX_CLASSES);
  if (IMAGE_SIZE % config.patchSize !== 0) fail('patchSize', 'a divisor of 28 (1, 2, 4, 7, 14, 28)', config.patchSize);
  if (!['gelu', 'relu', 'none'].includes(config.activation)) fail('activation', "'gelu', 'relu' or 'none'", config.activation);
  if (!['none', 'layernorm'].includes(config.norm)) fail('norm', "'none' or 'layernorm'", config.norm);
  if (typeof config.residual !== 'boolean') fail('residual', 'true or false', config.residual);
  if (!Number.isInteger(config.seed)) fail('seed', 'an integer', config.seed);
  const init = config.init;
  if (!init || (init.kind !== 'fan-in' && !(init.kind === 'normal' && init.std > 0 && Number.isFinite(init.std)))) {
    fail('init', "{ kind: 'normal', std > 0 } or { kind: 'fan-in' }", init);
  }
  // Counted in closed form, before anything is allocated per block or per weight.
  const n = countParameters(config);
  if (n > MAX_PARAMETERS) {
    throw new FmnistModelError(
      'E_CONFIG',
      `Model config describes ${n.toLocaleString('en-US')} parameters, more than the ${MAX_PARAMETERS.toLocaleString('en-US')} a model may have. Use smaller dims or fewer blocks.`,
    );
  }
}

/** Number of patches per image (49 for 4×4 patches). */
export function numPatches(config: Pick<ModelConfig, 'patchSize'>): number {
  return (IMAGE_SIZE / config.patchSize) ** 2;
}

/** One parameter tensor's name, shape and role. */
export interface ParamSpec {
  /** e.g. `blocks.0.token_mlp.fc1.weight`. */
  name: string;
  /** Shape; Linear weights are `[in, out]` (`y = x @ W + b`). */
  shape: number[];
  /** `weight` (Linear, random init), `bias` (zeros), `norm-weight` (ones), `norm-bias` (zeros). */
  kind: 'weight' | 'bias' | 'norm-weight' | 'norm-bias';
}

/**
 * The parameters a config has, in a fixed order (the order of the checkpoint).
 *
 * @param config - a full config
 * @returns one {@link ParamSpec} per tensor
 *
 * @example
 * ```ts
 * paramSpecs(resolveConfig('coursework')).map((p) => p.name);
 * // ['embed.weight', 'embed.bias', 'blocks.0.token_mlp.fc1.weight', …, 'head.bias']
 * ```
 */
export function paramSpecs(config: ModelConfig): ParamSpec[] {
  const patches = numPatches(config);
  const pixels = config.patchSize * config.patchSize;
  const specs: ParamSpec[] = [];
  const linear = (name: string, inF: number, outF: number) => {
    specs.push({ name: `${name}.weight`, shape: [inF, outF], kind: 'weight' });
    specs.push({ name: `${name}.bias`, shape: [outF], kind: 'bias' });
  };
  const norm = (name: string) => {
    specs.push({ name: `${name}.weight`, shape: [config.dim], kind: 'norm-weight' });
    specs.push({ name: `${name}.bias`, shape: [config.dim], kind: 'norm-bias' });
  };
  linear('embed', pixels, config.dim);
  for (let b = 0; b < config.blocks; b++) {
    if (config.norm === 'layernorm') norm(`blocks.${b}.norm1`);
    linear(`blocks.${b}.token_mlp.fc1`, patches, config.tokenHidden);
    linear(`blocks.${b}.token_mlp.fc2`, config.tokenHidden, patches);
    if (config.norm === 'layernorm') norm(`blocks.${b}.norm2`);
    linear(`blocks.${b}.channel_mlp.fc1`, config.dim, config.channelHidden);
    linear(`blocks.${b}.channel_mlp.fc2`, config.channelHidden, config.dim);
  }
  if (config.norm === 'layernorm') norm('norm');
  linear('head', config.dim, config.numClasses);
  return specs;
}

/**
 * Number of trainable parameters of a config.
 *
 * @param config - a full config, or a preset name
 * @returns the count (49,211 for `coursework` and `patch-mlp`)
 *
 * @example
 * ```ts
 * countParameters('coursework'); // 49211
 * ```
 */
export function countParameters(config: ModelConfig | PresetName | PresetAlias): number {
  const c = typeof config === 'string' ? resolveConfig(config) : config;
  // Closed form of the sum over paramSpecs (which a config with millions of blocks could not even list).
  const patches = numPatches(c);
  const linear = (inF: number, outF: number) => inF * outF + outF;
  const norm = c.norm === 'layernorm' ? 2 * c.dim : 0;
  const block =
    2 * norm +
    linear(patches, c.tokenHidden) +
    linear(c.tokenHidden, patches) +
    linear(c.dim, c.channelHidden) +
    linear(c.channelHidden, c.dim);
  return linear(c.patchSize * c.patchSize, c.dim) + c.blocks * block + norm + linear(c.dim, c.numClasses);
}
