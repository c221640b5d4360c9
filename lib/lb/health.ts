/**
 * Which DBs the LB believes are up. A failed connection marks a DB down at
 * once; a background probe of GET /health brings it back as soon as it
 * answers. Soft state only: a restarted LB, or a second LB beside it,
 * learns the same within one probe interval.
 */
import { HttpClient } from '../net/httpClient';

/** Probe every 250 ms: a restarted primary is used again within a quarter second. */
export const PROBE_INTERVAL_MS = 250;
/** A DB that cannot answer /health in this long is treated as down. */
export const PROBE_TIMEOUT_MS = 500;

export class DbHealth {
  private readonly up: boolean[];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly urls: string[],
    private readonly http: HttpClient,
  ) {
    this.up = urls.map(() => true);
  }

  isUp(db: number): boolean {
    return this.up[db];
  }

  markDown(db: number): void {
    this.up[db] = false;
  }

  markUp(db: number): void {
    this.up[db] = true;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.probeAll(), PROBE_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async probeAll(): Promise<void> {
    await Promise.all(
      this.urls.map(async (url, db) => {
        try {
          const res = await this.http.request('GET', `${url}/health`, undefined, PROBE_TIMEOUT_MS);
          this.up[db] = res.status === 200;
        } catch {
          this.up[db] = false;
        }
      }),
    );
  }
}
