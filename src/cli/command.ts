// A CLI command is a thin shell over a library function: it parses argv, calls the function and
// prints. `run` resolves to the process exit code.
export interface Command {
  name: string;
  summary: string;
  run(argv: string[]): Promise<number>;
}

/** An error whose message is meant for the user as is (no stack trace). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
