/**
 * A line logger: ISO time, role, message. Writes to the role's logfile when
 * it has one (as the original servers did), else to stderr.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** Like warn, but at most once per `everyMs` for the same `topic`: for errors that repeat on every request. */
  warnEvery(topic: string, everyMs: number, message: string): void;
  close(): Promise<void>;
}

export function createLogger(role: string, logfile: string | null): Logger {
  let write: (line: string) => void;
  let close: () => Promise<void>;
  if (logfile) {
    mkdirSync(dirname(logfile), { recursive: true });
    const stream = createWriteStream(logfile, { flags: 'a' });
    write = (line) => stream.write(line);
    close = () => new Promise((resolve) => stream.end(resolve));
  } else {
    write = (line) => process.stderr.write(line);
    close = async () => undefined;
  }
  const lastWarned = new Map<string, number>();
  const line = (level: string, message: string) => write(`${new Date().toISOString()} ${role} ${level} ${message}\n`);
  return {
    info: (m) => line('info', m),
    warn: (m) => line('warn', m),
    error: (m) => line('error', m),
    warnEvery(topic, everyMs, message) {
      const now = Date.now();
      if ((lastWarned.get(topic) ?? -Infinity) + everyMs > now) return;
      lastWarned.set(topic, now);
      line('warn', message);
    },
    close,
  };
}

/** A logger that drops everything: for unit tests. */
export const silentLogger: Logger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  warnEvery: () => undefined,
  close: async () => undefined,
};
