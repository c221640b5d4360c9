/** QueueTransport over serverQ's HTTP API (queue/app.ts). */
import { HttpClient } from '../net/httpClient';
import { Leased, QueueTransport } from './transport';

export class HttpQueue implements QueueTransport {
  private readonly base: string;

  constructor(host: string, port: number, private readonly http: HttpClient) {
    this.base = `http://${host}:${port}`;
  }

  private async call(method: string, path: string, body?: unknown): Promise<any> {
    const res = await this.http.request(method, `${this.base}${path}`, body === undefined ? undefined : JSON.stringify(body));
    if (res.status !== 200) throw new Error(`queue ${method} ${path} answered ${res.status}: ${res.body}`);
    return JSON.parse(res.body);
  }

  async put(channel: string, messages: object[]): Promise<void> {
    if (messages.length === 0) return;
    const c = encodeURIComponent(channel);
    if (messages.length === 1) await this.call('PUT', `/q/${c}`, messages[0]);
    else await this.call('POST', `/q/${c}/batch`, { messages });
  }

  async lease(channel: string, max: number, leaseMs: number): Promise<Leased[]> {
    const res = await this.call('POST', `/q/${encodeURIComponent(channel)}/lease?max=${max}&ms=${leaseMs}`);
    return res.messages as Leased[];
  }

  async ack(channel: string, ids: string[]): Promise<void> {
    if (ids.length > 0) await this.call('POST', `/q/${encodeURIComponent(channel)}/ack`, { ids });
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
