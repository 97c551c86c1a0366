/**
 * A small, introspectable schema for the files fmnist reads back (checkpoint.json, the safetensors header, a run's
 * config.json). One schema per format, checked once on read: a file either parses into typed data or yields one
 * {@link SchemaViolation} naming the field (`history[2].trainLoss`), what was expected and the value found.
 *
 * Hand-written rather than zod/valibot: it is ~150 lines, browser-safe, adds nothing to the install size, and its
 * schemas are plain data, so the tests generate their damaged-file cases from the schema itself.
 */

/** Fields every schema node may carry. */
interface SchemaBase {
  /** The field may be absent (`undefined`). */
  optional?: boolean;
  /** The field may be `null`. */
  nullable?: boolean;
  /** A further check once the type matched: returns what is wrong (e.g. `must not exceed 'epochs' (3)`), or nothing. */
  refine?: (value: never, root: unknown) => string | undefined;
}

/** A schema node: what one field of a file must hold. */
export type Schema = SchemaBase &
  (
    | { kind: 'int'; min: number; max: number }
    | { kind: 'number'; min: number; max: number; exclusiveMin?: boolean }
    | { kind: 'string'; maxLength: number; values?: readonly string[]; pattern?: RegExp; patternText?: string }
    | { kind: 'boolean' }
    | { kind: 'literal'; value: string | number }
    | { kind: 'array'; item: Schema; minLength: number; maxLength: number }
    | { kind: 'object'; fields: Readonly<Record<string, Schema>> }
    | { kind: 'record'; value: Schema; maxKeys: number }
    | { kind: 'unknown' }
  );

/** One thing wrong with a file: the field's path, what it must be, and the value found. */
export interface SchemaViolation {
  /** Dotted path of the field, e.g. `history[0].epoch` (`(root)` for the whole document). */
  path: string;
  /** What the field must be, e.g. `must be an integer in [0, 1000000]`. */
  expected: string;
  /** The value found (absent when the field is missing). */
  value: unknown;
  /** True when the field is missing. */
  missing: boolean;
}

/** Schema builders: `s.int(0, 10)`, `s.obj({ … })`, `s.opt(s.str())`, … */
export const s = {
  /** An integer in `[min, max]`. */
  int: (min: number, max: number, extra: SchemaBase = {}): Schema => ({ kind: 'int', min, max, ...extra }),
  /** A finite number in `[min, max]` (or `(min, max]` with `exclusiveMin`). */
  num: (min: number, max: number, extra: SchemaBase & { exclusiveMin?: boolean } = {}): Schema => ({ kind: 'number', min, max, ...extra }),
  /** A string of at most `maxLength` characters, optionally one of `values` or matching `pattern`. */
  str: (
    options: { maxLength?: number; values?: readonly string[]; pattern?: RegExp; patternText?: string } = {},
    extra: SchemaBase = {},
  ): Schema => ({ kind: 'string', maxLength: options.maxLength ?? 1000, ...options, ...extra }),
  /** `true` or `false`. */
  bool: (extra: SchemaBase = {}): Schema => ({ kind: 'boolean', ...extra }),
  /** Exactly `value`. */
  lit: (value: string | number, extra: SchemaBase = {}): Schema => ({ kind: 'literal', value, ...extra }),
  /** An array of `item`s, `minLength` to `maxLength` long. */
  arr: (item: Schema, minLength: number, maxLength: number, extra: SchemaBase = {}): Schema => ({
    kind: 'array',
    item,
    minLength,
    maxLength,
    ...extra,
  }),
  /** An object with these fields (fields not listed are allowed and ignored). */
  obj: (fields: Record<string, Schema>, extra: SchemaBase = {}): Schema => ({ kind: 'object', fields, ...extra }),
  /** An object whose values all match `value`, with at most `maxKeys` keys. */
  record: (value: Schema, maxKeys: number, extra: SchemaBase = {}): Schema => ({ kind: 'record', value, maxKeys, ...extra }),
  /** Anything (checked by `refine` only). */
  any: (extra: SchemaBase = {}): Schema => ({ kind: 'unknown', ...extra }),
  /** The same schema, but the field may be absent. */
  opt: (schema: Schema): Schema => ({ ...schema, optional: true }),
};

const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** What a schema node expects, in words. */
export function describeSchema(schema: Schema): string {
  switch (schema.kind) {
    case 'int':
      return `an integer in [${schema.min}, ${schema.max}]`;
    case 'number':
      return `a finite number in ${schema.exclusiveMin ? '(' : '['}${schema.min}, ${schema.max}]`;
    case 'string':
      return schema.values
        ? `one of ${schema.values.map((v) => JSON.stringify(v)).join(', ')}`
        : `a string${schema.patternText ? ` (${schema.patternText})` : ''} of at most ${schema.maxLength} characters`;
    case 'boolean':
      return 'true or false';
    case 'literal':
      return JSON.stringify(schema.value);
    case 'array':
      return schema.minLength === schema.maxLength
        ? `an array of ${schema.minLength} items`
        : `an array of ${schema.minLength} to ${schema.maxLength} items`;
    case 'object':
      return 'an object';
    case 'record':
      return `an object of at most ${schema.maxKeys} entries`;
    default:
      return 'a value';
  }
}

const join = (path: string, key: string | number) =>
  typeof key === 'number'
    ? `${path}[${key}]`
    : path === ''
      ? key
      : /^[A-Za-z_$][\w$]*$/.test(key)
        ? `${path}.${key}`
        : `${path}[${JSON.stringify(key)}]`;

function check(schema: Schema, value: unknown, path: string, root: unknown): SchemaViolation | undefined {
  const fail = (expected: string): SchemaViolation => ({ path: path || '(root)', expected, value, missing: false });
  if (value === undefined) {
    return schema.optional ? undefined : { path: path || '(root)', expected: `must be ${describeSchema(schema)}`, value, missing: true };
  }
  if (value === null) return schema.nullable ? undefined : fail(`must be ${describeSchema(schema)}`);
  const must = `must be ${describeSchema(schema)}`;
  switch (schema.kind) {
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < schema.min || value > schema.max) return fail(must);
      break;
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return fail(must);
      if (value > schema.max || (schema.exclusiveMin ? value <= schema.min : value < schema.min)) return fail(must);
      break;
    }
    case 'string':
      if (typeof value !== 'string' || value.length > schema.maxLength) return fail(must);
      if (schema.values && !schema.values.includes(value)) return fail(must);
      if (schema.pattern && !schema.pattern.test(value)) return fail(must);
      break;
    case 'boolean':
      if (typeof value !== 'boolean') return fail(must);
      break;
    case 'literal':
      if (value !== schema.value) return fail(must);
      break;
    case 'array': {
      if (!Array.isArray(value) || value.length < schema.minLength || value.length > schema.maxLength) return fail(must);
      for (let i = 0; i < value.length; i++) {
        const v = check(schema.item, value[i], join(path, i), root);
        if (v) return v;
      }
      break;
    }
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return fail(must);
      for (const [key, field] of Object.entries(schema.fields)) {
        const v = check(field, Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined, join(path, key), root);
        if (v) return v;
      }
      break;
    }
    case 'record': {
      if (typeof value !== 'object' || Array.isArray(value)) return fail(must);
      const entries = Object.entries(value);
      if (entries.length > schema.maxKeys) return fail(must);
      for (const [key, v] of entries) {
        const bad = check(schema.value, v, join(path, key), root);
        if (bad) return bad;
      }
      break;
    }
  }
  const problem = schema.refine?.(value as never, root);
  return problem ? fail(problem) : undefined;
}

/**
 * Checks `value` against `schema`.
 *
 * @param schema - what the document must hold
 * @param value - the parsed document
 * @returns the first violation (depth-first, in the schema's field order), or `undefined` when the value conforms
 *
 * @example
 * ```ts
 * checkSchema(s.obj({ epoch: s.int(0, 10) }), { epoch: -4 });
 * // { path: 'epoch', expected: 'must be an integer in [0, 10]', value: -4, missing: false }
 * ```
 */
export function checkSchema(schema: Schema, value: unknown): SchemaViolation | undefined {
  return check(schema, value, '', value);
}

/** A value for a message: JSON, shortened to 60 characters (never the whole file). */
export function showValue(value: unknown): string {
  let text: string;
  try {
    text = value === undefined ? 'nothing' : typeof value === 'number' && !Number.isFinite(value) ? String(value) : JSON.stringify(value);
  } catch {
    text = typeName(value);
  }
  text ??= typeName(value);
  // Control characters never reach the terminal.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  text = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/**
 * Formats a violation as `field 'history[0].epoch' must be an integer in [1, 1000000], got "x"`.
 *
 * @param violation - from {@link checkSchema}
 * @returns the sentence (without the file name)
 *
 * @example
 * ```ts
 * formatViolation({ path: 'epoch', expected: 'must be an integer in [0, 10]', value: -4, missing: false });
 * // "field 'epoch' must be an integer in [0, 10], got -4"
 * ```
 */
export function formatViolation(violation: SchemaViolation): string {
  return violation.missing
    ? `field '${violation.path}' is missing (it ${violation.expected})`
    : `field '${violation.path}' ${violation.expected}, got ${showValue(violation.value)}`;
}

/** One damaged variant of a valid document (from {@link listSchemaDamage}). */
export interface SchemaDamage {
  /** The field damaged, as violations name it (`history[0].trainLoss`). */
  path: string;
  /** What was done to it (`deleted`, `null`, `negative`, `huge`, `"NaN"`…). */
  label: string;
  /** Applies the damage to a copy of the valid document (in place). */
  damage(doc: unknown): void;
}

type Slot = Record<string | number, unknown>;
type Mutation = { label: string; apply: (parent: Slot, key: string | number) => void };
const put =
  (v: unknown) =>
  (p: Slot, k: string | number): void => {
    p[k] = v;
  };

/** The damage a schema node must refuse, derived from the node itself. */
function mutationsOf(schema: Schema): Mutation[] {
  const out: Mutation[] = [];
  if (!schema.optional)
    out.push({
      label: 'deleted',
      apply: (p, k) => {
        if (Array.isArray(p)) p.splice(k as number, 1, undefined);
        else delete p[k];
      },
    });
  if (!schema.nullable) out.push({ label: 'null', apply: put(null) });
  switch (schema.kind) {
    case 'int':
      out.push({ label: 'a string', apply: put('1') }, { label: '"NaN"', apply: put('NaN') });
      if (schema.min > -Number.MAX_SAFE_INTEGER) out.push({ label: `below ${schema.min}`, apply: put(schema.min - 1) });
      out.push({ label: 'huge', apply: put(schema.max < Number.MAX_SAFE_INTEGER ? schema.max + 1 : 1e300) });
      out.push({ label: 'non-integer', apply: put((schema.min > -1e9 ? schema.min : 0) + 0.5) });
      break;
    case 'number':
      out.push({ label: 'a string', apply: put('0.5') }, { label: '"NaN"', apply: put('NaN') });
      if (schema.min > -Number.MAX_VALUE) out.push({ label: 'negative', apply: put(schema.min - 1) });
      if (schema.max < Number.MAX_VALUE) out.push({ label: 'above the maximum', apply: put(schema.max * 2 + 1) });
      if (schema.exclusiveMin) out.push({ label: 'at the exclusive minimum', apply: put(schema.min) });
      break;
    case 'string':
      out.push({ label: 'a number', apply: put(42) });
      if (schema.values) out.push({ label: 'an unknown value', apply: put('bogus') });
      if (schema.pattern) out.push({ label: 'a path outside', apply: put('../../../../etc/passwd') });
      if (schema.maxLength <= 10_000) out.push({ label: 'too long', apply: put('x'.repeat(schema.maxLength + 1)) });
      break;
    case 'boolean':
      out.push({ label: 'a string', apply: put('yes') });
      break;
    case 'literal':
      out.push({ label: 'another value', apply: put(typeof schema.value === 'number' ? schema.value + 1 : `${schema.value}x`) });
      break;
    case 'array':
      out.push({ label: 'an object', apply: put({}) }, { label: 'a string', apply: put('[]') });
      if (schema.minLength === schema.maxLength)
        out.push({ label: 'one item more', apply: (p, k) => (p[k] as unknown[]).push((p[k] as unknown[])[0]) });
      break;
    case 'object':
    case 'record':
      out.push({ label: 'an array', apply: put([]) }, { label: 'a string', apply: put('{}') });
      break;
  }
  return out;
}

function damageOf(schema: Schema, value: unknown, path: string, locate: (doc: unknown) => Slot, key: string | number): SchemaDamage[] {
  const out: SchemaDamage[] = mutationsOf(schema).map((m) => ({ path, label: m.label, damage: (doc) => m.apply(locate(doc), key) }));
  const here = (doc: unknown) => locate(doc)[key] as Slot;
  if (schema.kind === 'object' && value && typeof value === 'object') {
    for (const [k, field] of Object.entries(schema.fields)) {
      const v = (value as Slot)[k];
      if (v === undefined && field.optional) continue;
      out.push(...damageOf(field, v, join(path, k), here, k));
    }
  } else if (schema.kind === 'array' && Array.isArray(value) && value.length > 0) {
    out.push(...damageOf(schema.item, value[0], join(path, 0), here, 0));
  } else if (schema.kind === 'record' && value && typeof value === 'object') {
    const [k, v] = Object.entries(value)[0] ?? [];
    // Any key may go, so deleting an entry is no damage.
    if (k !== undefined) out.push(...damageOf(schema.value, v, join(path, k), here, k).filter((d) => d.label !== 'deleted'));
  }
  return out;
}

/**
 * Lists damaged variants of a valid document, derived from its schema: every field present is in turn deleted (when
 * required), set to `null` (when not nullable), given a wrong type or a `"NaN"` string, pushed below its minimum or
 * above its maximum, made a non-integer, an unknown enum value, a path outside its directory… Each variant must be
 * refused naming `path`. For testing readers of files that are checked with {@link checkSchema}.
 *
 * @param schema - the document's schema
 * @param valid - a document that conforms (its optional fields present, so they are damaged too)
 * @returns one entry per (field, damage)
 *
 * @example
 * ```ts
 * const cases = listSchemaDamage(schema.obj({ epoch: schema.int(0, 10) }), { epoch: 3 });
 * cases.map((c) => c.label); // ['deleted', 'null', 'a string', '"NaN"', 'below 0', 'huge', 'non-integer']
 * ```
 */
export function listSchemaDamage(schema: Schema, valid: unknown): SchemaDamage[] {
  return damageOf(schema, valid, '', (doc) => ({ doc }) as Slot, 'doc').filter((d) => d.path !== '');
}
