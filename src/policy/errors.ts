/** A rules file that cannot be used; the message always starts with `file:line:` so an admin can jump to it. */
export class PolicyError extends Error {
  constructor(readonly file: string, readonly line: number, detail: string) {
    super(`${file}:${line}: ${detail}`);
    this.name = 'PolicyError';
  }
}
