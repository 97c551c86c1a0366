/**
 * Everything both entries (browser and Node) export.
 * @internal
 */
export {
  CLASS_NAMES,
  type ClassName,
  checkFashionMnistHeader,
  classCounts,
  createSplit,
  DEFAULT_MIRRORS,
  FASHION_MNIST_FILES,
  type FashionMnist,
  type FashionMnistFileInfo,
  type FashionMnistFileKey,
  type FashionMnistSplit,
  FILE_KEYS,
  getImage,
  hasControlCharacters,
  IMAGE_COLS,
  IMAGE_PIXELS,
  IMAGE_ROWS,
  NUM_CLASSES,
} from './dataset';
export { FmnistDataError, type FmnistDataErrorCode, FmnistError } from './errors';
export {
  DEFAULT_MAX_IDX_BYTES,
  decodeIdx,
  type IdxArray,
  type IdxDataType,
  type IdxDecodeOptions,
  IdxDecoder,
  type IdxTypedArray,
  isGzip,
} from './idx';
export type { AllSplits, DataSource, LoadedFileInfo, LoadedSplits, LoadInfo, LoadProgress, LoadResult, SplitName } from './load-core';
export { createRng, type Rng, type RngState } from './random';
export {
  type Augmentation,
  type Batch,
  type Batches,
  type BatchOptions,
  batches,
  describeAugmentation,
  type ExampleSet,
  FASHION_MNIST_MEAN,
  FASHION_MNIST_STD,
  type Layout,
  layoutShape,
  mirrorImages,
  type Normalization,
  normalize,
  oneHot,
  type PatchifyOptions,
  patchify,
  permutation,
  resolveNormalization,
  shuffle,
  subset,
  type ToBatchOptions,
  type TrainValidationSplitOptions,
  toBatch,
  trainValidationSplit,
} from './transforms';
export { type ByteSource, type LoadFromSourcesOptions, loadFromSources, type SplitsImpliedByFiles } from './web/load';
