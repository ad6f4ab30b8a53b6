/** A tool call that cannot be done as asked (no such text to edit, a binary file…); the model is told why. */
export class ToolRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolRefusal';
  }
}
