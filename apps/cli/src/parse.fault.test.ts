/** Fault cases of the flag parsers (issue 16, classes 8 and 11): every numeric flag refuses what is not a plain decimal in range. */
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  batchSizeOption,
  benchSecondsOption,
  epochsOption,
  learningRateOption,
  MAX_BATCH_SIZE,
  MAX_THREADS,
  nonNegativeNumber,
  parseDuration,
  positiveInt,
  positiveNumber,
  previewOption,
  seedOption,
  subsetOption,
  testIndexOption,
  threadsOption,
  weightDecayOption,
} from './parse';
import { shellQuote } from './shell';

const INT_PARSERS = { positiveInt, epochsOption, batchSizeOption, threadsOption, seedOption, subsetOption, testIndexOption, previewOption };
const NUMBER_PARSERS = { positiveNumber, nonNegativeNumber, benchSecondsOption, learningRateOption, weightDecayOption };
const NOT_DECIMAL = ['0x10', '-1', '1e400', 'NaN', 'Infinity', '', ' 1', '1 ', '1_000', '+-1', '+1', '0b1', '1,5', 'one'];

describe('integer flags refuse non-decimal, fractional and huge values', () => {
  const cases = Object.entries(INT_PARSERS).flatMap(([name, parse]) =>
    [...NOT_DECIMAL, '1.5', '1e3', '99999999999999999999'].map((v) => [name, parse, v] as const),
  );
  it.each(cases)('%s(%j) throws', (_name, parse, value) => {
    expect(() => parse(value)).toThrow(InvalidArgumentError);
    expect(() => parse(value)).toThrow(`got '${value}'`);
  });
});

describe('number flags refuse non-decimal and non-finite values', () => {
  const cases = Object.entries(NUMBER_PARSERS).flatMap(([name, parse]) => NOT_DECIMAL.map((v) => [name, parse, v] as const));
  it.each(cases)('%s(%j) throws', (_name, parse, value) => {
    expect(() => parse(value)).toThrow(InvalidArgumentError);
  });
  it('accepts plain decimals', () => {
    expect(positiveNumber('0.001')).toBe(0.001);
    expect(positiveNumber('1e-3')).toBe(0.001);
    expect(positiveNumber('.5')).toBe(0.5);
    expect(nonNegativeNumber('0')).toBe(0);
    expect(() => positiveNumber('1e-400')).toThrow(/> 0/);
  });
});

describe('bounds are stated', () => {
  it('--threads', () => {
    expect(threadsOption(String(MAX_THREADS))).toBe(MAX_THREADS);
    expect(MAX_THREADS).toBeGreaterThanOrEqual(64);
    expect(() => threadsOption('1000')).toThrow(`expected an integer from 1 to ${MAX_THREADS}`);
    expect(() => threadsOption('0')).toThrow(/from 1 to/);
  });
  it('--batch-size', () => {
    expect(batchSizeOption('1024')).toBe(MAX_BATCH_SIZE);
    expect(() => batchSizeOption('1025')).toThrow('expected an integer from 1 to 1,024');
    expect(() => batchSizeOption('100000')).toThrow(/too large/);
  });
  it('--seed, --subset, --test-index, --preview, --seconds, --epochs', () => {
    expect(seedOption('4294967295')).toBe(4294967295);
    expect(() => seedOption('4294967296')).toThrow(/4,294,967,295/);
    expect(() => subsetOption('60001')).toThrow(/60,000/);
    expect(testIndexOption('9999')).toBe(9999);
    expect(() => testIndexOption('10000')).toThrow(/9,999/);
    expect(() => previewOption('1001')).toThrow(/1,000/);
    expect(() => benchSecondsOption('3601')).toThrow(/3,600/);
    expect(() => epochsOption('1000001')).toThrow(/1,000,000/);
  });
  it('--lr and --weight-decay', () => {
    expect(learningRateOption('10')).toBe(10);
    expect(() => learningRateOption('1e20')).toThrow('expected a number > 0 and ≤ 10');
    expect(() => learningRateOption('0')).toThrow(/> 0/);
    expect(weightDecayOption('0')).toBe(0);
    expect(() => weightDecayOption('99999999999999999999')).toThrow(/≤ 10/);
  });
  it('--time-budget', () => {
    expect(() => parseDuration('9'.repeat(400))).toThrow(/at most 8760h/);
    expect(() => parseDuration('9000h')).toThrow(/at most 8760h/);
    expect(parseDuration('8760h')).toBe(8760 * 3_600_000);
  });
});

describe('shellQuote', () => {
  it.each([
    ['runs/a-1', 'runs/a-1'],
    ['my run', `'my run'`],
    [`it's`, `'it'\\''s'`],
    ['$HOME', `'$HOME'`],
    ['a`b`', `'a\`b\`'`],
    ['', `''`],
    ['a\nb', `'a\nb'`],
  ])('%j → %s', (word, quoted) => {
    expect(shellQuote(word)).toBe(quoted);
  });
});
