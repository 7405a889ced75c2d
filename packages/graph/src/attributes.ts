import type { Tensor } from '@sdxs/tensor';

/** Value types of ONNX attributes, by tag. Tagged so that ints and floats are never confused. */
export interface AttrTypes {
  int: number;
  float: number;
  string: string;
  ints: readonly number[];
  floats: readonly number[];
  strings: readonly string[];
  tensor: Tensor;
}

export type AttrValue = { [K in keyof AttrTypes]: { readonly type: K; readonly value: AttrTypes[K] } }[keyof AttrTypes];

export type Attributes = Readonly<Record<string, AttrValue>>;

export const attr = {
  int: (value: number): AttrValue => ({ type: 'int', value }),
  float: (value: number): AttrValue => ({ type: 'float', value }),
  string: (value: string): AttrValue => ({ type: 'string', value }),
  ints: (value: readonly number[]): AttrValue => ({ type: 'ints', value }),
  floats: (value: readonly number[]): AttrValue => ({ type: 'floats', value }),
  strings: (value: readonly string[]): AttrValue => ({ type: 'strings', value }),
  tensor: (value: Tensor): AttrValue => ({ type: 'tensor', value }),
};

/** Read an attribute of a given type (used by dumps and gradient rules); undefined when absent. */
export function getAttr<T extends keyof AttrTypes>(attrs: Attributes, name: string, type: T): AttrTypes[T] | undefined {
  const a = attrs[name];
  if (a === undefined) return undefined;
  if (a.type !== type) throw new TypeError(`attribute ${name} is ${a.type}, not ${type}`);
  // The tag was checked above; TypeScript cannot narrow a union by a generic tag.
  return a.value as AttrTypes[T];
}
