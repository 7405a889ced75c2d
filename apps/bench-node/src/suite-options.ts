/** The `--flag value` options main.ts hands to every suite, read the same way by each. */

/** The value after `flag`, or undefined when it is not given. */
export function option(args: readonly string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

/** A positive integer option, `fallback` when absent; anything else is an error naming the flag. */
export function positiveInt(args: readonly string[], flag: string, fallback: number): number {
  const given = option(args, flag);
  const v = given === undefined ? fallback : Number(given);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${flag} must be a positive integer, got ${given}`);
  return v;
}
