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
  /**
   * Like warn, but at most once per `everyMs` for the same `topic`: for
   * errors that repeat on every request or message. What it holds back is
   * counted, and the count is logged when the interval ends.
   */
  warnEvery(topic: string, everyMs: number, message: string): void;
  close(): Promise<void>;
}

/** What warnEvery remembers of a topic: until when it holds messages back, and how many it has. */
interface Topic {
  until: number;
  everyMs: number;
  held: number;
  timer: NodeJS.Timeout | null;
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
  const line = (level: string, message: string) => write(`${new Date().toISOString()} ${role} ${level} ${message}\n`);
  const topics = new Map<string, Topic>();
  const flush = (topic: string, t: Topic) => {
    if (t.timer) clearTimeout(t.timer);
    t.timer = null;
    if (t.held > 0) line('warn', `... and ${t.held} more like that (${topic}) in ${Math.round(t.everyMs / 1000)} s`);
    t.held = 0;
  };
  return {
    info: (m) => line('info', m),
    warn: (m) => line('warn', m),
    error: (m) => line('error', m),
    warnEvery(topic, everyMs, message) {
      const now = Date.now();
      const t = topics.get(topic);
      if (t !== undefined && now < t.until) {
        t.held++;
        t.timer ??= setTimeout(() => flush(topic, t), t.until - now);
        t.timer.unref?.();
        return;
      }
      if (t !== undefined) flush(topic, t);
      topics.set(topic, { until: now + everyMs, everyMs, held: 0, timer: null });
      line('warn', message);
    },
    close: () => {
      for (const [topic, t] of topics) flush(topic, t);
      return close();
    },
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
