import type { TfjsBackendName } from './backend';
import { IMAGE_SIZE, type ModelConfig, numPatches, paramSpecs } from './config';
import {
  type AdamOptions,
  type LossOptions,
  OPTIMIZER_SLOTS,
  type OptimizerKind,
  type OptimizerState,
  optimizerKind,
  type ParamSet,
  type SgdOptions,
  type StepResult,
  type TrainEngine,
  type UpdateOptions,
} from './engine';
import { FmnistModelError } from './errors';
import { tf, useTfjsBackend } from './tfjs-backend';

type T2 = tf.Tensor2D;

/** Largest batch sent through one forward pass in `predict`. */
const PREDICT_CHUNK = 1000;

/**
 * Builds the forward pass of any config in TensorFlow.js. On the wasm backend every Linear uses a custom gradient with
 * explicit transposes, because tfjs-wasm's matMul with `transposeA/B` (which autodiff uses) is 5–10× slower than a
 * plain matMul.
 *
 * @param config - the model config
 * @param explicitTranspose - use the custom-gradient Linear (what the `wasm` backend wants)
 * @returns `forward(x, vars)`: `[B, 784]` images and the parameters as tensors by checkpoint name → `[B, numClasses]` logits
 *
 * @example
 * ```ts
 * import { resolveConfig } from '@fmnist/model';
 * import { createTfjsForward, tf } from '@fmnist/model/tfjs';
 *
 * const forward = createTfjsForward(resolveConfig('patch-mlp'), false);
 * ```
 */
export function createTfjsForward(config: ModelConfig, explicitTranspose: boolean) {
  const linearCustom = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, w, b, save] = args as [T2, T2, tf.Tensor1D, tf.GradSaveFunc];
    save([x, w]);
    return {
      value: tf.add(tf.matMul(x as T2, w as T2), b as tf.Tensor1D),
      gradFunc: (dy, saved) => {
        const [xs, ws] = saved as [T2, T2];
        return [tf.matMul(dy as T2, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy as T2), tf.sum(dy as T2, 0)];
      },
    };
  }) as (x: T2, w: T2, b: tf.Tensor1D) => T2;
  const linear = (x: T2, w: tf.Tensor, b: tf.Tensor): T2 =>
    explicitTranspose ? linearCustom(x, w as T2, b as tf.Tensor1D) : tf.add(tf.matMul(x, w as T2), b);
  const act = (x: T2): T2 => {
    if (config.activation === 'relu') return tf.relu(x);
    if (config.activation === 'none') return x;
    return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
  };
  const layerNorm = (x: T2, w: tf.Tensor, b: tf.Tensor): T2 => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), w), b);
  };
  const p = config.patchSize;
  const g = IMAGE_SIZE / p;
  const P = numPatches(config);
  const dim = config.dim;
  return (x: T2, v: Record<string, tf.Tensor>): T2 => {
    const B = x.shape[0];
    // Patchify: [B, 784] → [B, 7, 4, 7, 4] → [B, 7, 7, 4, 4] → [B·49, 16].
    let h = linear(
      tf.reshape(tf.transpose(tf.reshape(x, [B, g, p, g, p]), [0, 1, 3, 2, 4]), [B * P, p * p]),
      v['embed.weight']!,
      v['embed.bias']!,
    );
    for (let i = 0; i < config.blocks; i++) {
      const k = `blocks.${i}`;
      let u = config.norm === 'layernorm' ? layerNorm(h, v[`${k}.norm1.weight`]!, v[`${k}.norm1.bias`]!) : h;
      let t = tf.reshape(tf.transpose(tf.reshape(u, [B, P, dim]), [0, 2, 1]), [B * dim, P]) as T2;
      t = linear(
        act(linear(t, v[`${k}.token_mlp.fc1.weight`]!, v[`${k}.token_mlp.fc1.bias`]!)),
        v[`${k}.token_mlp.fc2.weight`]!,
        v[`${k}.token_mlp.fc2.bias`]!,
      );
      t = tf.reshape(tf.transpose(tf.reshape(t, [B, dim, P]), [0, 2, 1]), [B * P, dim]) as T2;
      h = config.residual ? tf.add(h, t) : t;
      u = config.norm === 'layernorm' ? layerNorm(h, v[`${k}.norm2.weight`]!, v[`${k}.norm2.bias`]!) : h;
      const c = linear(
        act(linear(u, v[`${k}.channel_mlp.fc1.weight`]!, v[`${k}.channel_mlp.fc1.bias`]!)),
        v[`${k}.channel_mlp.fc2.weight`]!,
        v[`${k}.channel_mlp.fc2.bias`]!,
      );
      h = config.residual ? tf.add(h, c) : c;
    }
    if (config.norm === 'layernorm') h = layerNorm(h, v['norm.weight']!, v['norm.bias']!);
    // The head is linear, so averaging the 49 per-patch logit vectors equals applying it to the mean patch.
    const pooled = tf.mean(tf.reshape(h, [B, P, dim]), 1) as T2;
    return linear(pooled, v['head.weight']!, v['head.bias']!);
  };
}

/** Options of {@link createTfjsEngine}. */
export interface TfjsEngineOptions {
  /** TensorFlow.js backend. @defaultValue `'auto'` (tensorflow → wasm → cpu) */
  backend?: TfjsBackendName | 'auto';
}

/**
 * A training engine on TensorFlow.js: any config, any tfjs backend, the optimizers (Adam, SGD with momentum) written
 * out with tensor ops so their state can be saved and restored exactly.
 *
 * @param config - the model config
 * @param params - initial parameters
 * @param options - backend choice
 * @returns the engine
 *
 * @example
 * ```ts
 * import { createModel } from '@fmnist/model';
 * import { createTfjsEngine } from '@fmnist/model/tfjs';
 *
 * const model = createModel('patch-mlp');
 * const engine = await createTfjsEngine(model.config, model.params, { backend: 'cpu' });
 * ```
 */
export async function createTfjsEngine(config: ModelConfig, params: ParamSet, options: TfjsEngineOptions = {}): Promise<TrainEngine> {
  const backend = await useTfjsBackend(options.backend ?? 'auto');
  const forward = createTfjsForward(config, backend === 'wasm');
  const specs = paramSpecs(config);
  const vars: Record<string, tf.Variable> = {};
  // The optimizer's state: one variable per parameter in each of its slots (OPTIMIZER_SLOTS), made when first needed.
  let kind: OptimizerKind = 'adam';
  const slots: Partial<Record<'m' | 'v' | 'momentum', Record<string, tf.Variable>>> = {};
  const slot = (name: 'm' | 'v' | 'momentum'): Record<string, tf.Variable> => {
    let set = slots[name];
    if (!set) {
      set = {};
      for (const s of specs) set[s.name] = tf.variable(tf.zeros(s.shape), false, `${name}/${s.name}`);
      slots[name] = set;
    }
    return set;
  };
  for (const s of specs) vars[s.name] = tf.variable(tf.tensor(params[s.name] as Float32Array, s.shape), true, `p/${s.name}`);
  for (const name of OPTIMIZER_SLOTS.adam) slot(name); // the default optimizer's; others when first used (never inside a tidy)
  let step = 0;
  const varList = specs.map((s) => vars[s.name] as tf.Variable);
  const read = (set: Record<string, tf.Variable>): ParamSet =>
    Object.fromEntries(specs.map((s) => [s.name, (set[s.name] as tf.Variable).dataSync() as Float32Array])) as ParamSet;
  const write = (set: Record<string, tf.Variable>, values: ParamSet) => {
    for (const s of specs) tf.tidy(() => (set[s.name] as tf.Variable).assign(tf.tensor(values[s.name] as Float32Array, s.shape)));
  };
  const checkX = (x: Float32Array) => {
    if (x.length % (IMAGE_SIZE * IMAGE_SIZE) !== 0) throw new RangeError(`'x' length must be a multiple of 784, got ${x.length}.`);
    return x.length / (IMAGE_SIZE * IMAGE_SIZE);
  };
  /** Adam (PyTorch semantics, AdamW weight decay) on one parameter, inside a tidy. */
  const adamUpdate = (name: string, isWeight: boolean, g: tf.Tensor, adam: AdamOptions) => {
    const bc1 = 1 - adam.beta1 ** step;
    const bc2 = 1 - adam.beta2 ** step;
    const m = slot('m')[name] as tf.Variable;
    const v = slot('v')[name] as tf.Variable;
    const mi = tf.add(tf.mul(m, adam.beta1), tf.mul(g, 1 - adam.beta1));
    const vi = tf.add(tf.mul(v, adam.beta2), tf.mul(tf.square(g), 1 - adam.beta2));
    m.assign(mi);
    v.assign(vi);
    const denom = tf.add(tf.div(tf.sqrt(vi), Math.sqrt(bc2)), adam.epsilon);
    const p = vars[name] as tf.Variable;
    const decayed = isWeight && adam.weightDecay ? tf.mul(p, 1 - adam.learningRate * adam.weightDecay) : p;
    p.assign(tf.sub(decayed, tf.mul(tf.div(mi, denom), adam.learningRate / bc1)));
  };
  /** SGD with momentum (PyTorch semantics, coupled weight decay) on one parameter, inside a tidy. */
  const sgdUpdate = (name: string, isWeight: boolean, grad: tf.Tensor, sgd: SgdOptions) => {
    const p = vars[name] as tf.Variable;
    const g = isWeight && sgd.weightDecay ? tf.add(grad, tf.mul(p, sgd.weightDecay)) : grad;
    let d = g;
    if (sgd.momentum !== 0) {
      const buf = slot('momentum')[name] as tf.Variable;
      const next = step === 1 ? g : tf.add(tf.mul(buf, sgd.momentum), tf.mul(g, 1 - (sgd.dampening ?? 0)));
      buf.assign(next);
      d = sgd.nesterov ? tf.add(g, tf.mul(next, sgd.momentum)) : next;
    }
    p.assign(tf.sub(p, tf.mul(d, sgd.learningRate)));
  };

  return {
    name: `tfjs-${backend}`,
    threads: 1,
    setParams: (p) => write(vars, p),
    getParams: () => read(vars),
    getOptimizerState(): OptimizerState {
      const state: OptimizerState = { kind, step };
      for (const name of OPTIMIZER_SLOTS[kind]) state[name] = read(slot(name));
      return state;
    },
    setOptimizerState(state: OptimizerState) {
      const next = state.kind ?? 'adam';
      if (!Object.hasOwn(OPTIMIZER_SLOTS, next)) throw new RangeError(`unknown optimizer kind '${next}'; expected adam or sgd`);
      for (const name of OPTIMIZER_SLOTS[next]) {
        const values = state[name];
        if (!values) throw new RangeError(`${next} optimizer state is missing its '${name}' tensors`);
        write(slot(name), values);
      }
      kind = next;
      step = state.step;
    },
    async trainStep(x: Float32Array, y: Uint8Array, update: UpdateOptions, loss?: LossOptions): Promise<StepResult> {
      const B = checkX(x);
      const next = optimizerKind(update);
      if (next !== kind) {
        if (step > 0) {
          throw new FmnistModelError(
            'E_CONFIG',
            `this engine's optimizer state holds ${step} ${kind} steps; a ${next} step cannot continue it. Train on with '${kind}', or start a new run (or call setOptimizerState with a ${next} state).`,
          );
        }
        for (const name of OPTIMIZER_SLOTS[next]) for (const t of Object.values(slot(name))) tf.tidy(() => t.assign(tf.zerosLike(t)));
        kind = next;
      }
      step++;
      const smoothing = loss?.labelSmoothing ?? 0;
      const [lossT, correctT] = tf.tidy(() => {
        const xs = tf.tensor2d(x, [B, IMAGE_SIZE * IMAGE_SIZE]);
        const labels = tf.tensor1d(Int32Array.from(y), 'int32');
        const onehot = tf.oneHot(labels, config.numClasses);
        let logits: tf.Tensor | undefined;
        const { value, grads } = tf.variableGrads(() => {
          const out = forward(xs, vars);
          logits = tf.keep(out);
          // PyTorch's label_smoothing: target (1 − ε)·onehot + ε / classes (ε 0: the plain expression, as before)
          const target = smoothing ? tf.add(tf.mul(onehot, 1 - smoothing), smoothing / config.numClasses) : onehot;
          return tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(out)), 1))) as tf.Scalar;
        }, varList);
        const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits as tf.Tensor, 1), labels), 'int32'));
        (logits as tf.Tensor).dispose();
        for (const s of specs) {
          const g = grads[`p/${s.name}`] as tf.Tensor;
          if (update.kind === 'sgd') sgdUpdate(s.name, s.kind === 'weight', g, update);
          else adamUpdate(s.name, s.kind === 'weight', g, update);
        }
        return [value, correct];
      });
      const [lossValue, correct] = await Promise.all([lossT.data(), correctT.data()]);
      lossT.dispose();
      correctT.dispose();
      return { loss: lossValue[0] as number, correct: correct[0] as number };
    },
    async predict(x: Float32Array): Promise<Float32Array> {
      const B = checkX(x);
      const out = new Float32Array(B * config.numClasses);
      for (let start = 0; start < B; start += PREDICT_CHUNK) {
        const n = Math.min(PREDICT_CHUNK, B - start);
        const logits = tf.tidy(() => forward(tf.tensor2d(x.subarray(start * 784, (start + n) * 784), [n, IMAGE_SIZE * IMAGE_SIZE]), vars));
        out.set(await logits.data(), start * config.numClasses);
        logits.dispose();
      }
      return out;
    },
    async dispose() {
      for (const t of [...Object.values(vars), ...Object.values(slots).flatMap((set) => Object.values(set))]) t.dispose();
    },
  };
}
