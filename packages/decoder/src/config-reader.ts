/**
 * Reading a diffusers `config.json` into a typed config, field by field. Every problem (a missing field, a
 * wrong type, a value the model code does not support) is collected, then thrown once as a ConfigError that
 * names the file and each field — the user fixes the config in one pass instead of meeting a TypeError deep
 * inside graph building.
 */

/** A config.json that cannot describe a model this package builds. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** The config file, as given to the parser. */
  readonly file: string;
  /** The fields at fault, in the order found. */
  readonly fields: readonly string[];

  constructor(file: string, problems: readonly { field: string; message: string }[]) {
    super(`${file}: ${problems.map((p) => `field "${p.field}" ${p.message}`).join('; ')}`);
    this.file = file;
    this.fields = problems.map((p) => p.field);
  }
}

/** A field value that older diffusers versions did not write; absent means "use this". */
type Fallback<T> = { readonly default: T } | undefined;

/**
 * Typed access to one config object. Getters record problems and return a placeholder, so a parser reads
 * every field and calls `done()` once; the placeholder is never used because `done()` throws first.
 */
export class ConfigReader {
  readonly file: string;
  private readonly json: Readonly<Record<string, unknown>>;
  private readonly problems: { field: string; message: string }[] = [];

  constructor(json: unknown, file: string, className: string) {
    this.file = file;
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      // Nothing else can be read: report this alone.
      throw new ConfigError(file, [{ field: '(root)', message: `must be a JSON object, got ${describe(json)}` }]);
    }
    this.json = json as Record<string, unknown>;
    // diffusers writes the class name; a config of another model is refused by name, not by a later mismatch.
    const cls = this.json['_class_name'];
    if (cls !== undefined && cls !== className) this.problem('_class_name', `is ${JSON.stringify(cls)}, expected "${className}"`);
  }

  /** Record a problem found by the caller (a cross-field check). */
  problem(field: string, message: string): void {
    this.problems.push({ field, message });
  }

  /** Throw the collected problems as one ConfigError, if any. */
  done(): void {
    if (this.problems.length) throw new ConfigError(this.file, this.problems);
  }

  /** An integer ≥ `min`. */
  int(name: string, min: number, fallback?: Fallback<number>): number {
    const v = this.get(name, fallback);
    if (v === undefined) return NaN;
    return typeof v === 'number' && Number.isInteger(v) && v >= min ? v : this.wrong(name, `an integer ≥ ${min}`, v, NaN);
  }

  /** A finite number. */
  number(name: string, fallback?: Fallback<number>): number {
    const v = this.get(name, fallback);
    if (v === undefined) return NaN;
    return typeof v === 'number' && Number.isFinite(v) ? v : this.wrong(name, 'a number', v, NaN);
  }

  /** A finite number or null. */
  numberOrNull(name: string, fallback?: Fallback<number | null>): number | null {
    const v = this.get(name, fallback);
    if (v === undefined || v === null) return null;
    return typeof v === 'number' && Number.isFinite(v) ? v : this.wrong(name, 'a number or null', v, null);
  }

  boolean(name: string, fallback?: Fallback<boolean>): boolean {
    const v = this.get(name, fallback);
    if (v === undefined) return false;
    return typeof v === 'boolean' ? v : this.wrong(name, 'true or false', v, false);
  }

  /** One of `allowed` (compared after `normalize`, e.g. lower-casing as diffusers' get_activation does). */
  choice<T extends string>(name: string, allowed: readonly T[], fallback?: Fallback<T>, normalize: (s: string) => string = (s) => s): T {
    const v = this.get(name, fallback);
    const first = allowed[0]!;
    if (v === undefined) return first;
    if (typeof v !== 'string') return this.wrong(name, 'a string', v, first);
    const found = allowed.find((a) => a === normalize(v));
    if (found === undefined) {
      this.problem(name, `is ${JSON.stringify(v)}, which is not supported; supported: ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
      return first;
    }
    return found;
  }

  /** A non-empty array of integers ≥ `min`. */
  ints(name: string, min: number, fallback?: Fallback<readonly number[]>): number[] {
    const v = this.get(name, fallback);
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= min)) {
      return this.wrong(name, `a non-empty list of integers ≥ ${min}`, v, []);
    }
    return v.map(Number);
  }

  /** A list of finite numbers, or null. */
  numbersOrNull(name: string, fallback?: Fallback<readonly number[] | null>): number[] | null {
    const v = this.get(name, fallback);
    if (v === undefined || v === null) return null;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) return this.wrong(name, 'a list of numbers or null', v, null);
    return v.map(Number);
  }

  /** A non-empty list whose entries are each one of `allowed`. */
  choices<T extends string>(name: string, allowed: readonly T[], fallback?: Fallback<readonly T[]>): T[] {
    const v = this.get(name, fallback);
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string')) return this.wrong(name, 'a non-empty list of strings', v, []);
    const out: T[] = [];
    for (const x of v) {
      const found = allowed.find((a) => a === x);
      if (found === undefined) {
        this.problem(name, `contains ${JSON.stringify(x)}, which is not supported; supported: ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
        return [];
      }
      out.push(found);
    }
    return out;
  }

  /** An integer ≥ `min`, or a list of such (diffusers' `sample_size` is either). */
  intOrInts(name: string, min: number, fallback?: Fallback<number | readonly number[]>): number | number[] {
    const v = this.get(name, fallback);
    if (v === undefined) return NaN;
    const ok = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x >= min;
    if (Array.isArray(v) ? v.length > 0 && v.every(ok) : ok(v)) return Array.isArray(v) ? v.map(Number) : Number(v);
    return this.wrong(name, `an integer ≥ ${min} or a non-empty list of them`, v, NaN);
  }

  private get(name: string, fallback: Fallback<unknown>): unknown {
    if (Object.hasOwn(this.json, name)) return this.json[name];
    if (fallback) return fallback.default;
    this.problem(name, 'is missing');
    return undefined;
  }

  private wrong<T>(name: string, expected: string, got: unknown, placeholder: T): T {
    this.problem(name, `must be ${expected}, got ${describe(got)}`);
    return placeholder;
  }
}

function describe(v: unknown): string {
  const text = JSON.stringify(v);
  return text === undefined ? String(v) : text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
