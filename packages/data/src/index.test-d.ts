/**
 * Type tests of the public API (`@fmnist/data`, browser and Node entries): run by `pnpm test` through vitest's
 * typecheck mode (`vitest.config.ts`). A change that widens a type to `any` or breaks a signature fails here.
 */
import { describe, expectTypeOf, it } from 'vitest';
import {
  type Batch,
  type Batches,
  batches,
  CLASS_NAMES,
  type ClassName,
  createRng,
  type DataSource,
  type ExampleSet,
  type FashionMnistSplit,
  type FmnistDataError,
  type FmnistDataErrorCode,
  type FmnistError,
  getImage,
  type LoadResult,
  loadFashionMnist as loadInBrowser,
  normalize,
  type RngState,
  subset,
} from './index';
import type { loadFashionMnist } from './node';

describe('@fmnist/data types', () => {
  it('class names are a readonly tuple of literals, and ClassName their union', () => {
    expectTypeOf(CLASS_NAMES).toExtend<readonly ClassName[]>();
    expectTypeOf(CLASS_NAMES[9]).toEqualTypeOf<'Ankle boot'>();
    expectTypeOf<'T-shirt/top'>().toExtend<ClassName>();
    expectTypeOf<'Hat'>().not.toExtend<ClassName>();
    expectTypeOf<ClassName>().not.toBeAny();
  });

  it('both loaders resolve to a LoadResult with typed splits and a known source', () => {
    // With no `splits`, both splits are present; `{ splits: ['test'] }` types a result without `train`.
    expectTypeOf<Awaited<ReturnType<typeof loadFashionMnist<['train', 'test']>>>>().toEqualTypeOf<LoadResult>();
    expectTypeOf<Awaited<ReturnType<typeof loadFashionMnist<['test']>>>>().toEqualTypeOf<LoadResult<['test']>>();
    expectTypeOf<LoadResult<['test']>['test']>().toEqualTypeOf<FashionMnistSplit>();
    expectTypeOf<LoadResult<['test']>>().not.toHaveProperty('train');
    expectTypeOf(loadInBrowser).returns.resolves.toHaveProperty('source');
    expectTypeOf<LoadResult['train']>().toEqualTypeOf<FashionMnistSplit>();
    expectTypeOf<LoadResult['source']>().toEqualTypeOf<DataSource>();
    expectTypeOf<'download'>().toExtend<DataSource>();
    expectTypeOf<FashionMnistSplit['images']>().toEqualTypeOf<Uint8Array>();
    expectTypeOf<FashionMnistSplit['rows']>().toEqualTypeOf<28>();
  });

  it('a split is an ExampleSet; getImage, normalize and subset keep their array types', () => {
    expectTypeOf<FashionMnistSplit>().toExtend<ExampleSet>();
    expectTypeOf(getImage).parameters.toEqualTypeOf<[FashionMnistSplit, number]>();
    expectTypeOf(getImage).returns.toEqualTypeOf<Uint8Array>();
    expectTypeOf(normalize).returns.toEqualTypeOf<Float32Array>();
    expectTypeOf(subset).returns.toExtend<ExampleSet>();
  });

  it('batches are iterable both ways and yield typed batches', () => {
    expectTypeOf(batches).returns.toEqualTypeOf<Batches>();
    expectTypeOf<Batches>().toExtend<Iterable<Batch>>();
    expectTypeOf<Batches>().toExtend<AsyncIterable<Batch>>();
    expectTypeOf<Batches['size']>().toEqualTypeOf<number>();
    expectTypeOf<Batch>().toEqualTypeOf<{ x: Float32Array; shape: number[]; y: Uint8Array; indices: Uint32Array; size: number }>();
  });

  it('the RNG state is a 4-tuple that round-trips', () => {
    expectTypeOf(createRng).parameter(0).toEqualTypeOf<number | RngState>();
    expectTypeOf(createRng(1).getState()).toEqualTypeOf<RngState>();
    expectTypeOf<RngState>().toEqualTypeOf<[number, number, number, number]>();
  });

  it('errors carry a typed code', () => {
    expectTypeOf<FmnistDataError>().toExtend<FmnistError>();
    expectTypeOf<FmnistDataError['code']>().toEqualTypeOf<FmnistDataErrorCode>();
    expectTypeOf<'E_MAGIC'>().toExtend<FmnistDataErrorCode>();
    expectTypeOf<'E_NOPE'>().not.toExtend<FmnistDataErrorCode>();
    expectTypeOf<FmnistDataError['file']>().toEqualTypeOf<string | undefined>();
  });
});
