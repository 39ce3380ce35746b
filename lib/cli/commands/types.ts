export interface CommandIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export interface Command {
  summary: string;
  /** Returns the process exit code. */
  run: (argv: string[], io: CommandIo) => Promise<number>;
}
