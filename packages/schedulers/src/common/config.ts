/**
 * Reading `scheduler_config.json` (diffusers' ConfigMixin format): one field spec per constructor argument,
 * diffusers' defaults for missing fields, and one error that names the file and every bad field. Keys a
 * scheduler does not take are ignored, as diffusers ignores them (that is how configs move between
 * compatible schedulers, e.g. an Euler config loaded as DPM-Solver).
 */

/** A field that failed to parse; collected and reported together by {@link parseConfig}. */
class FieldProblem extends Error {}

/** One constructor argument: its default and how to read it from JSON. */
export interface Field<T> {
  readonly defaultValue: T;
  /** The value, or a FieldProblem saying what is wrong with it. */
  read(value: unknown): T;
}

/** Config object type of a field table. */
export type ConfigOf<F> = { readonly [K in keyof F]: F[K] extends Field<infer T> ? T : never };

/** Every problem with one scheduler config, in one error. */
export class SchedulerConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`${file}: ${problems.join('; ')}`);
    this.name = 'SchedulerConfigError';
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

function quoteAll(values: readonly string[]): string {
  return values.map((v) => JSON.stringify(v)).join(', ');
}

/** An integer field (`int` in the diffusers signature). */
export function intField(defaultValue: number, min = 0): Field<number> {
  return {
    defaultValue,
    read(value) {
      if (typeof value !== 'number' || !Number.isInteger(value)) throw new FieldProblem(`expected an integer, got ${describe(value)}`);
      if (value < min) throw new FieldProblem(`expected an integer >= ${min}, got ${value}`);
      return value;
    },
  };
}

/** A float field; ±Infinity is allowed (Python's json writes `-Infinity` for `-float("inf")`). */
export function floatField(defaultValue: number): Field<number> {
  return {
    defaultValue,
    read(value) {
      if (typeof value !== 'number' || Number.isNaN(value)) throw new FieldProblem(`expected a number, got ${describe(value)}`);
      return value;
    },
  };
}

/** A `float | None` field. */
export function nullableFloatField(defaultValue: number | null): Field<number | null> {
  const inner = floatField(0);
  return { defaultValue, read: (value) => (value === null ? null : inner.read(value)) };
}

/**
 * A bool field. `null` reads as false where diffusers types it `bool | None` and tests it for truth.
 * `unsupported` is a value diffusers accepts but sdxs does not implement; it is refused by name.
 */
export function boolField(defaultValue: boolean, options: { nullable?: boolean; unsupported?: boolean } = {}): Field<boolean> {
  return {
    defaultValue,
    read(value) {
      if (value === null && options.nullable === true) return false;
      if (typeof value !== 'boolean') throw new FieldProblem(`expected true or false, got ${describe(value)}`);
      if (value === options.unsupported) throw new FieldProblem(`${String(value)} is not supported by @sdxs/schedulers`);
      return value;
    },
  };
}

/**
 * A string option. `values` are those sdxs implements; `unsupported` are further values diffusers accepts
 * (refused as "not supported", not as unknown); `aliases` map values diffusers rewrites on load.
 */
export function enumField<S extends string>(
  values: readonly S[],
  defaultValue: NoInfer<S>,
  options: { unsupported?: readonly string[]; aliases?: Readonly<Record<string, NoInfer<S>>> } = {},
): Field<S> {
  const known = (v: string): v is S => (values as readonly string[]).includes(v);
  return {
    defaultValue,
    read(value) {
      if (typeof value !== 'string') throw new FieldProblem(`expected one of ${quoteAll(values)}, got ${describe(value)}`);
      if (known(value)) return value;
      const alias = options.aliases?.[value];
      if (alias !== undefined) return alias;
      if (options.unsupported?.includes(value)) {
        throw new FieldProblem(`${JSON.stringify(value)} is a diffusers option @sdxs/schedulers does not support (supported: ${quoteAll(values)})`);
      }
      throw new FieldProblem(`unknown value ${JSON.stringify(value)} (expected one of ${quoteAll(values)})`);
    },
  };
}

/** A field sdxs implements only at diffusers' default, null; `unsupported` values are refused by name. */
export function nullOnlyField(unsupported: readonly string[]): Field<null> {
  return {
    defaultValue: null,
    read(value) {
      if (value === null) return null;
      if (typeof value === 'string' && unsupported.includes(value)) {
        throw new FieldProblem(`${JSON.stringify(value)} is a diffusers option @sdxs/schedulers does not support (only null is)`);
      }
      throw new FieldProblem(`expected null, got ${describe(value)}`);
    },
  };
}

/** `trained_betas`: null or a list of numbers. */
export function betasField(): Field<readonly number[] | null> {
  return {
    defaultValue: null,
    read(value) {
      if (value === null) return null;
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'number')) {
        throw new FieldProblem(`expected null or an array of numbers, got ${describe(value)}`);
      }
      return value.map(Number);
    },
  };
}

/**
 * Reads a config object against a field table: defaults for missing keys, one {@link SchedulerConfigError}
 * naming `file` and every bad field. `check` adds cross-field problems (returning messages).
 *
 * @example
 * parseConfig('EulerDiscreteScheduler', FIELDS, JSON.parse(text), 'scheduler/scheduler_config.json');
 */
export function parseConfig<F extends Record<string, Field<unknown>>>(
  className: string,
  fields: F,
  raw: unknown,
  file: string,
  check?: (config: ConfigOf<F>) => readonly string[],
): ConfigOf<F> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new SchedulerConfigError(file, [`expected a JSON object, got ${describe(raw)}`]);
  }
  const source = raw as Record<string, unknown>;
  const problems: string[] = [];
  const config: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(fields)) {
    if (!(key in source) || source[key] === undefined) {
      config[key] = field.defaultValue;
      continue;
    }
    try {
      config[key] = field.read(source[key]);
    } catch (e) {
      if (!(e instanceof FieldProblem)) throw e;
      problems.push(`${className} field "${key}": ${e.message}`);
    }
  }
  if (problems.length === 0 && check !== undefined) {
    problems.push(...check(config as ConfigOf<F>).map((p) => `${className} ${p}`));
  }
  if (problems.length > 0) throw new SchedulerConfigError(file, problems);
  return config as ConfigOf<F>;
}

/**
 * `JSON.parse` that also takes the `NaN`, `Infinity` and `-Infinity` Python's json module writes (diffusers
 * saves `lambda_min_clipped: -Infinity`); those tokens are only rewritten outside strings.
 *
 * @example
 * parsePythonJson('{"lambda_min_clipped": -Infinity}'); // { lambda_min_clipped: -Infinity }
 */
export function parsePythonJson(text: string): unknown {
  const marker = '\u0000sdxs-float:';
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    const token = ['-Infinity', 'Infinity', 'NaN'].find((t) => text.startsWith(t, i));
    if (token !== undefined) {
      out += JSON.stringify(marker + token);
      i += token.length - 1;
      continue;
    }
    out += c;
  }
  return JSON.parse(out, (_key, value: unknown) =>
    typeof value === 'string' && value.startsWith(marker) ? Number(value.slice(marker.length)) : value,
  );
}

/** A config given as JSON text (Python's json dialect) or as the parsed object. */
export function readJson(json: unknown): unknown {
  return typeof json === 'string' ? parsePythonJson(json) : json;
}
