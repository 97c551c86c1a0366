/**
 * Type tests of the public API (`@fmnist/onnx`, browser entry and the Node entry's file export): run by `pnpm test`
 * through vitest's typecheck mode (`vitest.config.ts`).
 */
import { createModel, type FmnistModel, type ModelConfig, type ParamSet, type PresetName } from '@fmnist/model/core';
import { describe, expectTypeOf, it } from 'vitest';
import {
  type ExportOnnxOptions,
  type ExportSource,
  exportOnnx,
  type FmnistOnnxError,
  type FmnistOnnxErrorCode,
  INPUT_NAME,
  type OnnxMetadata,
  type OnnxQuantization,
  type OnnxWeights,
  OUTPUT_NAMES,
  readOnnxMetadata,
  readOnnxWeights,
} from './index';
import { type ExportOnnxFileResult, exportOnnxFile } from './node';

describe('@fmnist/onnx types', () => {
  it('exportOnnx takes a model, a checkpoint or checkpoint files and returns the bytes', () => {
    expectTypeOf(exportOnnx).parameters.toEqualTypeOf<[ExportSource, ExportOnnxOptions?]>();
    expectTypeOf(exportOnnx).returns.toEqualTypeOf<Uint8Array>();
    expectTypeOf<FmnistModel>().toExtend<ExportSource>();
    expectTypeOf<{ config: PresetName; params: ParamSet }>().toExtend<ExportSource>();
    expectTypeOf<{ checkpointJson: string; weights: Uint8Array }>().toExtend<ExportSource>();
    expectTypeOf(exportOnnx(createModel('patch-mlp'), { quantize: 'fp16' })).toEqualTypeOf<Uint8Array>();
    // @ts-expect-error: not a weight format
    exportOnnx(createModel('patch-mlp'), { quantize: 'int4' });
  });

  it('quantisations, input and output names are literal types', () => {
    expectTypeOf<ExportOnnxOptions['quantize']>().toEqualTypeOf<OnnxQuantization | undefined>();
    expectTypeOf<OnnxQuantization>().toEqualTypeOf<'none' | 'int8' | 'fp16'>();
    expectTypeOf(INPUT_NAME).toEqualTypeOf<string>();
    expectTypeOf(OUTPUT_NAMES).toEqualTypeOf<readonly ['logits', 'probabilities']>();
  });

  it('the readers return typed metadata and weights', () => {
    expectTypeOf(readOnnxMetadata).parameters.toEqualTypeOf<[Uint8Array]>();
    expectTypeOf(readOnnxMetadata).returns.toEqualTypeOf<OnnxMetadata>();
    expectTypeOf<OnnxMetadata['format']>().toEqualTypeOf<'fmnist-onnx'>();
    expectTypeOf<OnnxMetadata['config']>().toEqualTypeOf<ModelConfig>();
    expectTypeOf<OnnxMetadata['preset']>().toEqualTypeOf<PresetName | undefined>();
    expectTypeOf<OnnxMetadata['raw']>().toEqualTypeOf<Record<string, string>>();
    expectTypeOf(readOnnxWeights).returns.toEqualTypeOf<OnnxWeights>();
    expectTypeOf<OnnxWeights['params']>().toEqualTypeOf<ParamSet>();
  });

  it('the Node entry writes a file and reports path, size and metadata', () => {
    expectTypeOf(exportOnnxFile).parameters.toEqualTypeOf<[string, string, ExportOnnxOptions?]>();
    expectTypeOf(exportOnnxFile).returns.resolves.toEqualTypeOf<ExportOnnxFileResult>();
    expectTypeOf<ExportOnnxFileResult>().toEqualTypeOf<{ path: string; bytes: number; metadata: OnnxMetadata }>();
  });

  it('errors carry a typed code', () => {
    expectTypeOf<FmnistOnnxError['code']>().toEqualTypeOf<FmnistOnnxErrorCode>();
    expectTypeOf<'E_NOPE'>().not.toExtend<FmnistOnnxErrorCode>();
  });
});
