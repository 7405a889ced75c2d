/**
 * A tokenizer file that is missing or cannot be used. The message starts with the file's name (or path),
 * so one line says what to fix.
 *
 * @example
 * try { CLIPTokenizer.fromFiles({ vocab: '{', merges: '' }); } catch (e) { e instanceof TokenizerFileError } // true
 */
export class TokenizerFileError extends Error {
  override readonly name = 'TokenizerFileError';
  /** The file at fault, as the caller named it (`tokenizer/vocab.json`, a full path, ...). */
  readonly file: string;

  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super(`${file}: ${problem}`, options);
    this.file = file;
  }
}
