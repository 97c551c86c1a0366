import { createRng } from '@fmnist/data';
import {
  canonicalPresetName,
  type ModelConfig,
  type ParamSpec,
  type PresetAlias,
  type PresetName,
  paramSpecs,
  resolveConfig,
  validateConfig,
} from './config';
import type { ParamSet } from './engine';
import { FmnistModelError } from './errors';

/** A model: its config and its parameters (plain Float32Arrays, no tensors held). */
export interface FmnistModel {
  /** The full config. */
  readonly config: ModelConfig;
  /** The preset it came from, if any: always the canonical name (`coursework` for a model created as `seed`). */
  readonly preset: PresetName | undefined;
  /** Parameters by name, in {@link paramSpecs} order; Linear weights `[in, out]`. */
  params: ParamSet;
  /** Number of trainable parameters. */
  countParameters(): number;
}

/**
 * Creates a freshly initialised model from a preset name or a config.
 *
 * @param presetOrConfig - a preset (`'coursework'`, `'patch-mlp'`, `'mixer-s'`, `'mixer-s7'`, `'mixer-s7-long'`, `'mixer-m'`, `'mixer-l'`, or an
 *   alias such as `'seed'`, the old name of `'coursework'`) or config fields over a preset
 * @returns the model with weights drawn from its `init` (seeded by `config.seed`) and biases 0
 * @throws FmnistModelError `E_CONFIG` for an unknown preset or invalid field
 *
 * @example
 * ```ts
 * const model = createModel('coursework');
 * model.countParameters(); // 49211
 * createModel('seed').preset; // 'coursework' (the old name is an alias)
 * ```
 */
export function createModel(
  presetOrConfig: PresetName | PresetAlias | (Partial<ModelConfig> & { preset?: PresetName | PresetAlias }) = 'patch-mlp',
): FmnistModel {
  const config = resolveConfig(presetOrConfig);
  const preset = canonicalPresetName(typeof presetOrConfig === 'string' ? presetOrConfig : presetOrConfig.preset);
  return modelFromParams(config, initParams(config), preset);
}

/**
 * Wraps existing parameters as a model, checking every tensor against the config.
 *
 * @param config - the full config
 * @param params - one Float32Array per {@link ParamSpec}
 * @param preset - the preset name to record, if any (an alias such as `seed` is recorded as its canonical name)
 * @returns the model
 * @throws FmnistModelError `E_CHECKPOINT_MISMATCH` naming a missing, extra or mis-sized tensor
 */
export function modelFromParams(config: ModelConfig, params: ParamSet, preset?: PresetName | PresetAlias): FmnistModel {
  checkParams(config, params, 'parameters');
  const count = paramSpecs(config).reduce((n, p) => n + size(p), 0);
  return { config, preset: canonicalPresetName(preset), params, countParameters: () => count };
}

const size = (p: ParamSpec) => p.shape.reduce((a, b) => a * b, 1);

/** Checks that `params` has exactly the config's tensors with the right sizes. @internal */
export function checkParams(config: ModelConfig, params: ParamSet, what: string): void {
  // A hand-made config ('activation: "bogus"', a string for 'residual') would otherwise compute something else.
  validateConfig(config);
  const specs = paramSpecs(config);
  for (const spec of specs) {
    const t = params[spec.name];
    if (!t)
      throw new FmnistModelError('E_CHECKPOINT_MISMATCH', `${what}: tensor '${spec.name}' [${spec.shape}] is missing for this config.`);
    if (!(t instanceof Float32Array))
      throw new FmnistModelError(
        'E_CHECKPOINT_MISMATCH',
        `${what}: tensor '${spec.name}' must be a Float32Array, got ${Array.isArray(t) ? 'an array' : typeof t}.`,
      );
    if (t.length !== size(spec)) {
      throw new FmnistModelError(
        'E_CHECKPOINT_MISMATCH',
        `${what}: tensor '${spec.name}' has ${t.length} values, the config needs [${spec.shape.join(', ')}] = ${size(spec)}. Was it saved with another preset or config?`,
      );
    }
  }
  const known = new Set(specs.map((s) => s.name));
  const extra = Object.keys(params).filter((n) => !known.has(n));
  if (extra.length > 0) {
    throw new FmnistModelError(
      'E_CHECKPOINT_MISMATCH',
      `${what}: tensors ${extra.join(', ')} do not belong to this config (another preset?).`,
    );
  }
}

/**
 * Draws initial parameters for a config: Linear weights from `config.init` (seeded by `config.seed`), biases 0,
 * LayerNorm weights 1.
 *
 * @param config - the full config
 * @returns a new {@link ParamSet}
 *
 * @example
 * ```ts
 * const params = initParams(resolveConfig('coursework'));
 * params['head.bias']; // Float32Array(10) of zeros
 * ```
 */
export function initParams(config: ModelConfig): ParamSet {
  const rng = createRng(config.seed);
  const params: ParamSet = {};
  for (const spec of paramSpecs(config)) {
    const t = new Float32Array(size(spec));
    if (spec.kind === 'weight') {
      const std = config.init.kind === 'normal' ? config.init.std : 1 / Math.sqrt(spec.shape[0] as number);
      for (let i = 0; i < t.length; i++) t[i] = rng.normal() * std;
    } else if (spec.kind === 'norm-weight') {
      t.fill(1);
    }
    params[spec.name] = t;
  }
  return params;
}

/** A deep copy of a parameter set. */
export function cloneParams(params: ParamSet): ParamSet {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v.slice()]));
}
