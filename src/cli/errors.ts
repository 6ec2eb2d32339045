/**
 * CliError is the one way a command fails on purpose: main.ts prints its message as one line
 * (plus the hint) and exits with its code. Anything else thrown is a bug and shows a stack.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "CliError";
  }
}
