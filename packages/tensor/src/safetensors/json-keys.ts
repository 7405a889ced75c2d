/** A key repeated inside one JSON object, and the top-level key it sits under (the tensor, for safetensors). */
export interface DuplicateKey {
  key: string;
  /** The top-level key whose value holds the duplicate; undefined when the duplicate is itself top-level. */
  under?: string;
}

/**
 * Finds the first key repeated within one object of `json`, at any depth.
 *
 * JSON.parse silently keeps the last of repeated keys while other parsers keep the first or refuse, so two
 * readers could see different tensors in one file; the reference implementation refuses, and so do we.
 * `json` must already have passed JSON.parse: this is a tokenizer, not a validator. It is iterative (an
 * explicit stack), so deeply nested input cannot overflow the call stack.
 */
export function findDuplicateKey(json: string): DuplicateKey | undefined {
  // One frame per open container: the keys seen so far for objects, null for arrays.
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  let topKey: string | undefined;
  let i = 0;
  const n = json.length;
  while (i < n) {
    const c = json.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      i++;
      let escaped = false;
      while (i < n) {
        const d = json.charCodeAt(i);
        if (d === 0x5c /* \ */) {
          escaped = true;
          i += 2;
        } else if (d === 0x22) {
          break;
        } else {
          i++;
        }
      }
      i++; // past the closing quote
      const frame = stack[stack.length - 1];
      if (expectKey && frame) {
        // Decode escapes so that "a" and "\u0061" count as the same key.
        const key = escaped ? decodeString(json.slice(start, i)) : json.slice(start + 1, i - 1);
        if (frame.has(key)) return stack.length === 1 ? { key } : { key, under: topKey ?? '' };
        frame.add(key);
        if (stack.length === 1) topKey = key;
        expectKey = false;
      }
      continue;
    }
    if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      // After a comma an object expects a key, an array a value.
      expectKey = stack[stack.length - 1] != null;
    }
    // Whitespace, colons, numbers and literals carry no keys.
    i++;
  }
  return undefined;
}

function decodeString(literal: string): string {
  const value: unknown = JSON.parse(literal);
  return typeof value === 'string' ? value : literal;
}
