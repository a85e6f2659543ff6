/**
 * A CLI as a process: lines out to stdout, whatever stdout is (terminal, file or pipe), and an
 * end that loses nothing. Node writes to a pipe asynchronously, so process.exit() would cut off
 * whatever the reader has not taken yet (`| wc -c` saw 64 KB of a 1 MB event): the exit code is
 * set instead, and the process ends by itself once stdout has drained. A reader that goes away
 * early (`| head -1`) is a normal end: the command stops at its next line, exit code 0.
 */

export interface CliLines {
  out(line: string): void;
  err(line: string): void;
}

/** Thrown by `out` once stdout's reader is gone, so that the command stops instead of carrying on. */
export class OutputClosedError extends Error {
  override name = 'OutputClosedError';
}

/**
 * Runs `command` with stdout and stderr as its lines, and sets process.exitCode from what it
 * returns; `onError` turns a failure into a message for stderr and an exit code.
 */
export function runCli(
  command: (io: CliLines) => Promise<number>,
  onError: (error: unknown) => { message: string; exitCode: number },
): void {
  let closed = false;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    closed = true;
    // EPIPE: the reader left (`| head`); anything written after that fails as destroyed.
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') return;
    process.stderr.write(`cannot write to stdout: ${error.message}\n`);
    process.exitCode = 1;
  });
  const io: CliLines = {
    out(line) {
      if (closed) throw new OutputClosedError('stdout was closed by its reader');
      process.stdout.write(line + '\n');
    },
    err(line) {
      process.stderr.write(line + '\n');
    },
  };
  command(io).then(
    (code) => {
      process.exitCode ??= code;
    },
    (error: unknown) => {
      if (error instanceof OutputClosedError || closed) {
        process.exitCode ??= 0;
        return;
      }
      const { message, exitCode } = onError(error);
      process.stderr.write(message + '\n');
      process.exitCode = exitCode;
    },
  );
}
