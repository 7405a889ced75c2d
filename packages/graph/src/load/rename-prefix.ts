/**
 * Renaming checkpoint keys between layouts by prefix tables (`in_layers.0.` ↔ `norm1.`), either way: the family
 * packages' original-layout (LDM) name maps are written as such tables.
 */

/** Pairs of key prefixes: [one layout's, the other's]. */
export type PrefixTable = ReadonlyArray<readonly [string, string]>;

/**
 * `key` with its first matching prefix from column `from` (0 or 1) replaced by the other column's; undefined when
 * no row matches.
 *
 * @example
 * renamePrefix('in_layers.2.weight', [['in_layers.2.', 'conv1.']], 0); // 'conv1.weight'
 */
export function renamePrefix(key: string, table: PrefixTable, from: 0 | 1): string | undefined {
  for (const pair of table) if (key.startsWith(pair[from])) return pair[1 - from] + key.slice(pair[from].length);
  return undefined;
}
