/**
 * The one check of an ONNX graph's input/output signature against its metadata, shared by the CLI (`fmnist eval`,
 * `fmnist predict`) and the web app: which input to feed and how, which output holds the class scores, how many
 * classes there are and what they are called. Browser-safe: only the protobuf is decoded, nothing is run.
 */
import { CLASS_NAMES } from '@fmnist/data';
import { FmnistOnnxError } from './errors';
import {
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type SparseTensorProto,
  type TensorProto,
  TensorProto_DataLocation,
  TensorProto_DataType,
  type ValueInfoProto,
} from './gen/onnx_pb';
import { decodeModel, metadataFromModel, type OnnxMetadata } from './metadata';

/** How a model takes its images: `nchw` = `[batch, 1, 28, 28]`, `flat` = `[batch, 784]`. */
export type OnnxInputLayout = 'nchw' | 'flat';

/** What {@link checkOnnxSignature} found: everything a runtime needs to feed the model and read its scores. */
export interface OnnxSignature {
  /** The graph input to feed (float32). */
  inputName: string;
  /** `nchw` (`[batch, 1, 28, 28]`) or `flat` (`[batch, 784]`). */
  layout: OnnxInputLayout;
  /** A fixed batch size the graph requires, or null when the batch dimension is free. */
  batchSize: number | null;
  /** The graph output with the class logits, when there is one. */
  logits: string | null;
  /** The graph output with the class probabilities (softmax), when there is one. */
  probabilities: string | null;
  /** Scores per image: the class dimension of the output(s). */
  classCount: number;
  /** One name per class: from the metadata, or Fashion-MNIST's for a 10-class graph without metadata. */
  classNames: string[];
  /** The fmnist metadata, or null for a graph exported elsewhere. */
  metadata: OnnxMetadata | null;
}

/** Options of {@link checkOnnxSignature}. */
export interface CheckOnnxSignatureOptions {
  /** Refuse a model without fmnist metadata (`E_NO_METADATA`, as from `readOnnxMetadata`). @defaultValue false */
  requireMetadata?: boolean;
  /** The number of classes the caller needs (e.g. 10 to score on Fashion-MNIST's labels); any count ≥ 2 when absent. */
  classCount?: number;
}

/**
 * The dims to feed a model's input with for `n` images.
 *
 * @param signature - from {@link checkOnnxSignature}
 * @param n - images in the batch
 * @returns `[n, 1, 28, 28]` or `[n, 784]`
 *
 * @example
 * ```ts
 * inputDims({ layout: 'flat' }, 3); // [3, 784]
 * ```
 */
export function inputDims(signature: Pick<OnnxSignature, 'layout'>, n: number): number[] {
  return signature.layout === 'flat' ? [n, 784] : [n, 1, 28, 28];
}

type Dim = { value: number } | { name: string } | null;

const FIX = 'Pass a model exported by fmnist export (input float32 [batch, 1, 28, 28], output float32 [batch, 10]).';

function fail(what: string): FmnistOnnxError {
  return new FmnistOnnxError('E_MODEL_SIGNATURE', `${what}. ${FIX}`);
}

const showDim = (d: Dim) => (d === null ? '?' : 'value' in d ? String(d.value) : d.name);
const showDims = (dims: Dim[]) => `[${dims.map(showDim).join(', ')}]`;
const typeName = (t: number) => (TensorProto_DataType[t] ?? `type ${t}`).toLowerCase().replace(/^float$/, 'float32');

/** A float32 tensor value's dims, or the reason it is not one. */
function tensorDims(info: ValueInfoProto, role: string): Dim[] {
  const type = info.type?.value;
  if (type?.case !== 'tensorType') throw fail(`The model's ${role} '${info.name}' is not a tensor (${type?.case ?? 'no type'})`);
  const elem = type.value.elemType;
  if (elem !== TensorProto_DataType.FLOAT) {
    throw fail(`The model's ${role} '${info.name}' is ${typeName(elem)}, expected float32`);
  }
  if (!type.value.shape) throw fail(`The model's ${role} '${info.name}' declares no shape`);
  return type.value.shape.dim.map((d): Dim => {
    if (d.value.case === 'dimValue') return { value: Number(d.value.value) };
    if (d.value.case === 'dimParam' && d.value.value !== '') return { name: d.value.value };
    return null;
  });
}

/** Whether a dim is `expected` or free (named/unknown). */
const fits = (d: Dim, expected: number) => d === null || !('value' in d) || d.value === expected;

function checkInputs(model: ModelProto): { name: string; layout: OnnxInputLayout; batch: Dim; dims: Dim[] } {
  const graph = model.graph;
  const initializers = new Set((graph?.initializer ?? []).map((t) => t.name));
  const inputs = (graph?.input ?? []).filter((i) => !initializers.has(i.name));
  if (inputs.length !== 1) {
    throw fail(
      inputs.length === 0
        ? 'The model has no graph input to feed images to'
        : `The model has ${inputs.length} graph inputs (${inputs.map((i) => `'${i.name}'`).join(', ')}), expected one image input`,
    );
  }
  const input = inputs[0] as ValueInfoProto;
  const dims = tensorDims(input, 'input');
  const [batch = null, ...rest] = dims;
  let layout: OnnxInputLayout | null = null;
  if (dims.length === 4 && fits(rest[0] ?? null, 1) && fits(rest[1] ?? null, 28) && fits(rest[2] ?? null, 28)) layout = 'nchw';
  if (dims.length === 2 && fits(rest[0] ?? null, 784)) layout = 'flat';
  if (!layout) {
    throw fail(
      `The model's input '${input.name}' has shape ${showDims(dims)} (rank ${dims.length}), expected [batch, 1, 28, 28] or [batch, 784]`,
    );
  }
  if (batch && 'value' in batch && batch.value < 1) throw fail(`The model's input '${input.name}' has batch dimension ${batch.value}`);
  return { name: input.name, layout, batch, dims };
}

/** The class dimension of a score output `[batch, C]`, checked against the input's batch dimension. */
function classDim(info: ValueInfoProto, batch: Dim): number {
  const dims = tensorDims(info, 'output');
  const c = dims[1];
  if (dims.length !== 2 || !c || !('value' in c)) {
    throw fail(`The model's output '${info.name}' has shape ${showDims(dims)}, expected [batch, classes] with a fixed number of classes`);
  }
  const b = dims[0] ?? null;
  if (batch && b && 'value' in batch && 'value' in b && batch.value !== b.value) {
    throw fail(`The model's output '${info.name}' has batch dimension ${b.value} for an input batch of ${batch.value}`);
  }
  if (c.value < 2) throw fail(`The model's output '${info.name}' gives ${c.value} score per image, expected one per class (2 or more)`);
  return c.value;
}

/** A tensor anywhere in the model (initializers, constants and attributes, subgraphs, functions, training graphs). */
function* allTensors(model: ModelProto): Generator<TensorProto> {
  const seen = new Set<GraphProto>();
  function* ofSparse(t: SparseTensorProto | undefined): Generator<TensorProto> {
    if (t?.values) yield t.values;
    if (t?.indices) yield t.indices;
  }
  function* ofNodes(nodes: readonly NodeProto[]): Generator<TensorProto> {
    for (const node of nodes) {
      for (const a of node.attribute) {
        if (a.t) yield a.t;
        yield* a.tensors;
        yield* ofSparse(a.sparseTensor);
        for (const s of a.sparseTensors) yield* ofSparse(s);
        if (a.g) yield* ofGraph(a.g);
        for (const g of a.graphs) yield* ofGraph(g);
      }
    }
  }
  function* ofGraph(g: GraphProto | undefined): Generator<TensorProto> {
    if (!g || seen.has(g)) return;
    seen.add(g);
    yield* g.initializer;
    for (const s of g.sparseInitializer) yield* ofSparse(s);
    yield* ofNodes(g.node);
  }
  yield* ofGraph(model.graph);
  for (const f of model.functions) yield* ofNodes(f.node);
  for (const t of model.trainingInfo) {
    yield* ofGraph(t.initialization);
    yield* ofGraph(t.algorithm);
  }
}

/**
 * Refuses a model that keeps any tensor in an external file: a runtime would open that file relative to wherever it
 * runs (its working directory, for bytes loaded from memory), so a downloaded model could read a file it was never
 * given. Models fmnist writes are self-contained.
 */
function checkSelfContained(model: ModelProto): void {
  for (const t of allTensors(model)) {
    if (t.dataLocation === TensorProto_DataLocation.EXTERNAL || t.externalData.length > 0) {
      const location = t.externalData.find((e) => e.key === 'location')?.value;
      throw fail(
        `The model keeps tensor ${JSON.stringify(t.name)} in an external file${location === undefined ? '' : ` (${JSON.stringify(location.length > 80 ? `${location.slice(0, 80)}…` : location)})`}; only self-contained models are read, with every weight inside the .onnx file`,
      );
    }
  }
}

/**
 * Checks that an ONNX model is a classifier of 28×28 images whose graph agrees with its metadata, and says how to run
 * it. The graph must have one float32 image input, `[batch, 1, 28, 28]` or `[batch, 784]` (names allowed for any
 * dimension), and float32 score outputs `[batch, C]`: `logits` and/or `probabilities`, or a single output of any name
 * (taken as logits). With fmnist metadata, the metadata's input name and shape must be the graph's, every output it
 * lists must exist, and it must name exactly `C` classes; a model without metadata must have 10 classes (Fashion-MNIST's
 * names are used).
 *
 * @param model - the bytes of an `.onnx` file (or a decoded `ModelProto`)
 * @param options - see {@link CheckOnnxSignatureOptions}
 * @returns the {@link OnnxSignature}
 * @throws FmnistOnnxError `E_NOT_ONNX` (not an ONNX model), `E_NO_METADATA` (damaged fmnist metadata, or none when
 *   `requireMetadata`), `E_MODEL_SIGNATURE` naming what is wrong: the input's rank, shape or type, an output's shape
 *   or type, the class count against the class names or against `options.classCount`; a tensor kept in an external
 *   file (only self-contained models are read)
 *
 * @example
 * ```ts
 * const signature = checkOnnxSignature(exportOnnx(createModel('patch-mlp')), { classCount: 10 });
 * signature.inputName; // 'image'
 * signature.layout; // 'nchw'
 * signature.classNames[9]; // 'Ankle boot'
 * ```
 */
export function checkOnnxSignature(model: Uint8Array | ModelProto, options: CheckOnnxSignatureOptions = {}): OnnxSignature {
  const decoded = model instanceof Uint8Array ? decodeModel(model) : model;
  checkSelfContained(decoded);
  let metadata: OnnxMetadata | null = null;
  try {
    metadata = metadataFromModel(decoded);
  } catch (err) {
    const hasFormat = decoded.metadataProps.some((p) => p.key === 'format' && p.value === 'fmnist-onnx');
    // Damaged fmnist metadata is never ignored; a foreign model without it may still run.
    if (options.requireMetadata || hasFormat) throw err;
  }
  const input = checkInputs(decoded);
  const outputs = decoded.graph?.output ?? [];
  if (outputs.length === 0) throw fail('The model has no graph output');
  const byName = new Map(outputs.map((o) => [o.name, o]));
  if (metadata) {
    const missing = metadata.outputs.filter((o) => !byName.has(o));
    if (missing.length > 0) {
      throw fail(
        `The model's metadata lists output${missing.length === 1 ? '' : 's'} ${missing.map((o) => `'${o}'`).join(', ')} that its graph lacks`,
      );
    }
  }
  // The outputs to choose from: those the metadata lists, else the graph's.
  const names = metadata ? metadata.outputs : outputs.map((o) => o.name);
  let logits = names.includes('logits') ? 'logits' : null;
  const probabilities = names.includes('probabilities') ? 'probabilities' : null;
  if (!logits && !probabilities) {
    if (names.length !== 1) {
      throw fail(
        `The model has ${names.length} outputs (${names.map((o) => `'${o}'`).join(', ')}) and none is named 'logits' or 'probabilities', so it is not clear which holds the class scores`,
      );
    }
    logits = names[0] as string;
  }
  const counts = [logits, probabilities]
    .filter((n): n is string => n !== null)
    .map((n) => [n, classDim(byName.get(n) as ValueInfoProto, input.batch)] as const);
  const classCount = (counts[0] as readonly [string, number])[1];
  for (const [name, c] of counts) {
    if (c !== classCount)
      throw fail(
        `The model's outputs disagree: '${(counts[0] as readonly [string, number])[0]}' gives ${classCount} scores per image, '${name}' ${c}`,
      );
  }
  let classNames: string[];
  if (metadata) {
    const meta = metadata.input;
    if (meta.name !== input.name) {
      throw fail(`The model's metadata names its input '${meta.name}', but the graph's input is '${input.name}'`);
    }
    const graphDims = input.dims;
    const agrees =
      meta.shape.length === graphDims.length &&
      meta.shape.every((d, i) => {
        const g = graphDims[i] ?? null;
        return typeof d === 'number' ? g !== null && 'value' in g && g.value === d : g === null || !('value' in g);
      });
    if (!agrees) {
      throw fail(
        `The model's metadata gives its input the shape [${meta.shape.join(', ')}], but the graph's input has ${showDims(graphDims)}`,
      );
    }
    if (metadata.classNames.length !== classCount) {
      throw fail(
        `The model's metadata names ${metadata.classNames.length} classes, but its output '${(counts[0] as readonly [string, number])[0]}' gives ${classCount} scores per image`,
      );
    }
    if (metadata.config.numClasses !== classCount) {
      throw fail(
        `The model's metadata config has numClasses ${metadata.config.numClasses}, but its graph gives ${classCount} scores per image`,
      );
    }
    classNames = [...metadata.classNames];
  } else {
    if (classCount !== CLASS_NAMES.length) {
      throw fail(
        `The model has no fmnist metadata naming its classes and gives ${classCount} scores per image; Fashion-MNIST has ${CLASS_NAMES.length} classes`,
      );
    }
    classNames = [...CLASS_NAMES];
  }
  if (options.classCount !== undefined && classCount !== options.classCount) {
    throw fail(`The model has ${classCount} classes, expected ${options.classCount} (Fashion-MNIST's)`);
  }
  return {
    inputName: input.name,
    layout: input.layout,
    batchSize: input.batch && 'value' in input.batch ? input.batch.value : null,
    logits,
    probabilities,
    classCount,
    classNames,
    metadata,
  };
}

/**
 * Checks one output tensor a runtime returned against the signature: float32 `[n, classCount]`. A graph can declare
 * one shape and compute another; this catches it before misaligned scores are read.
 *
 * @param signature - from {@link checkOnnxSignature}
 * @param name - the output's name
 * @param tensor - its `type` (onnxruntime's name, e.g. `float32`) and `dims`
 * @param n - images in the batch
 * @throws FmnistOnnxError `E_MODEL_SIGNATURE` when the type or dims differ
 *
 * @example
 * ```ts
 * checkOnnxOutput(signature, 'logits', { type: 'float32', dims: [4, 10] }, 4); // passes
 * ```
 */
export function checkOnnxOutput(
  signature: Pick<OnnxSignature, 'classCount'>,
  name: string,
  tensor: { type: string; dims: readonly number[] },
  n: number,
): void {
  const dims = [...tensor.dims];
  if (tensor.type !== 'float32' || dims.length !== 2 || dims[0] !== n || dims[1] !== signature.classCount) {
    throw fail(
      `The model's output '${name}' came back as ${tensor.type} [${dims.join(', ')}] for ${n} image${n === 1 ? '' : 's'}, expected float32 [${n}, ${signature.classCount}]`,
    );
  }
}
