/**
 * Command-line parsing on Node's `util.parseArgs` (strict: an unknown flag or a missing value is a usage
 * error), plus the value checks every command shares.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isProviderName, PROVIDERS, type ProviderName } from '@sdxs/runtime-node';
import { toSeed } from '@sdxs/tensor';
import { UsageError } from './errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Flags every command takes. */
export const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  verbose: { type: 'boolean', short: 'v' },
  quiet: { type: 'boolean', short: 'q' },
} as const satisfies Options;

/** What {@link parseCommand} returns: util.parseArgs's typed `values` and `positionals`. */
export type ParsedCommand<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: typeof COMMON_OPTIONS & O; allowPositionals: true; strict: true }>>;

/**
 * Parse `argv` against a command's options (with {@link COMMON_OPTIONS} added). util.parseArgs's own errors
 * become UsageErrors naming the command.
 *
 * @example
 * const { values, positionals } = parseCommand('info', ['./model', '--json'], { json: { type: 'boolean' } });
 */
export function parseCommand<O extends Options>(command: string, argv: readonly string[], options: O): ParsedCommand<O> {
  try {
    return parseArgs({ args: joinNegativeValues(argv, options), options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (e) {
    // Keep parseArgs's words (they say how to pass a value starting with '-'), minus its advice on
    // positionals that start with '-', which no sdxs command has.
    const message = e instanceof Error ? e.message.replace(/\s*To specify a positional argument[^]*$/, '').replace(/\s*\n\s*/g, ' ') : String(e);
    throw new UsageError(message, command);
  }
}

/**
 * `--seed -1` as `--seed=-1`: parseArgs takes a value starting with '-' for a flag, but no sdxs flag is a dash and
 * a digit, so a negative number after an option that takes a value is that value.
 */
function joinNegativeValues(argv: readonly string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** `value` as a finite number; the range is the caller's (the pipeline's checkRequest names the limits). */
export function numberFlag(command: string, flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`--${flag}: expected a number, got ${JSON.stringify(value)}`, command);
  return n;
}

/** An integer flag within [min, max]. */
export function intFlag(command: string, flag: string, value: string | undefined, min: number, max: number): number | undefined {
  const n = numberFlag(command, flag, value);
  if (n === undefined) return undefined;
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${flag} must be an integer from ${min} to ${max}, got ${value}`, command);
  return n;
}

/**
 * A seed: a decimal integer in torch's manual_seed range, −2^63 to 2^64 − 1, kept exact as a bigint. A negative
 * seed is what torch makes of it (the int64 cast to uint64: −1 is 2^64 − 1), so its noise is PyTorch's.
 */
export function seedFlag(command: string, value: string | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  try {
    if (!/^-?\d{1,20}$/.test(text)) throw new RangeError('not an integer');
    return toSeed(BigInt(text));
  } catch {
    throw new UsageError(`--seed: expected an integer from -9223372036854775808 to 18446744073709551615, got ${JSON.stringify(value)}`, command);
  }
}

/** One of a fixed set of words. */
export function choiceFlag<T extends string>(command: string, flag: string, value: string | undefined, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  const found = choices.find((c) => c === value);
  if (found === undefined) throw new UsageError(`--${flag}: expected one of ${choices.join(', ')}, got ${JSON.stringify(value)}`, command);
  return found;
}

/** `--ep`: the execution provider. */
export function providerFlag(command: string, value: string | undefined): ProviderName {
  if (value === undefined) return 'cpu';
  if (!isProviderName(value)) throw new UsageError(`--ep: expected one of ${PROVIDERS.join(', ')}, got ${JSON.stringify(value)}`, command);
  return value;
}

/** Exactly `names.length` positional arguments, or a usage error naming the first missing one. */
export function positionals(command: string, given: readonly string[], names: readonly string[]): string[] {
  if (given.length < names.length) throw new UsageError(`missing ${names[given.length]}`, command);
  if (given.length > names.length) throw new UsageError(`unexpected argument ${JSON.stringify(given[names.length])}`, command);
  return [...given];
}

/** Help lines of {@link COMMON_OPTIONS}. */
export const COMMON_HELP = `Other options:
  -q, --quiet              no progress output (warnings are still printed)
  -v, --verbose            more progress, and the stack trace on errors
  -h, --help               this help`;
