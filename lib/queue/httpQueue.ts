/** QueueTransport over serverQ's HTTP API (queue/app.ts). */
import { NDJSON } from '../http/common';
import { HttpClient } from '../net/httpClient';
import { Leased, QueueTransport } from './transport';

/** A lease's NDJSON answer (queue/app.ts leaseNdjson) back into chunks. */
export function parseLease(text: string): Leased[] {
  const lines = text.split('\n');
  const header = JSON.parse(lines[0]) as { chunks: { id: string; n: number }[] };
  const out: Leased[] = [];
  let next = 1;
  for (const { id, n } of header.chunks) {
    if (next + n > lines.length) throw new Error(`queue lease answer is cut short: chunk ${id} wants ${n} lines`);
    out.push({ id, messages: lines.slice(next, next + n) });
    next += n;
  }
  return out;
}

export class HttpQueue implements QueueTransport {
  private readonly base: string;

  constructor(host: string, port: number, private readonly http: HttpClient) {
    this.base = `http://${host}:${port}`;
  }

  private async call(method: string, path: string, body?: string, headers?: Record<string, string>): Promise<string> {
    const res = await this.http.request(method, `${this.base}${path}`, body, undefined, headers);
    if (res.status !== 200) throw new Error(`queue ${method} ${path} answered ${res.status}: ${res.body}`);
    return res.body;
  }

  async put(channel: string, messages: string[]): Promise<void> {
    if (messages.length === 0) return;
    await this.call('POST', `/q/${encodeURIComponent(channel)}/batch`, messages.join('\n'), { 'content-type': NDJSON });
  }

  async lease(channel: string, max: number, leaseMs: number, ack: readonly string[] = []): Promise<Leased[]> {
    const acks = ack.length > 0 ? `&ack=${ack.map(encodeURIComponent).join(',')}` : '';
    const text = await this.call('POST', `/q/${encodeURIComponent(channel)}/lease?max=${max}&ms=${leaseMs}${acks}`, undefined, {
      accept: `${NDJSON}, application/json;q=0.5`,
    });
    return parseLease(text);
  }

  async ack(channel: string, ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.call('POST', `/q/${encodeURIComponent(channel)}/ack`, JSON.stringify({ ids }));
  }

  async waitFor(channel: string, ms: number): Promise<boolean> {
    // The request itself may take `ms`; allow the queue a little more to answer.
    const res = await this.http.request('GET', `${this.base}/q/${encodeURIComponent(channel)}/wait?ms=${ms}`, undefined, ms + 2000);
    if (res.status !== 200) throw new Error(`queue wait ${channel} answered ${res.status}: ${res.body}`);
    return (JSON.parse(res.body) as { waiting: number }).waiting > 0;
  }

  async close(): Promise<void> {
    this.http.close();
  }
}
