// One error class for every damaged or missing dataset input, so callers (the CLI) can tell
// "your files are bad" apart from programming errors and print the file it concerns.
export class DatasetError extends Error {
  /** The file (path, name or URL) that is missing or damaged. */
  readonly file: string;

  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatasetError';
    this.file = file;
  }
}
