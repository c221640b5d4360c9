/** QueueTransport over serverQ's HTTP API (SPEC.md "The queue service"). */
import { HttpClient } from '../net/httpClient';
import { QueueTransport } from './transport';

export class HttpQueue implements QueueTransport {
  private readonly base: string;

  constructor(host: string, port: number, private readonly http: HttpClient) {
    this.base = `http://${host}:${port}`;
  }

  async put(channel: string, message: object): Promise<void> {
    const res = await this.http.request('PUT', `${this.base}/q/${encodeURIComponent(channel)}`, JSON.stringify(message));
    if (res.status !== 200) throw new Error(`queue PUT ${channel} answered ${res.status}: ${res.body}`);
  }

  async take(channel: string): Promise<unknown | null> {
    const res = await this.http.request('GET', `${this.base}/q/${encodeURIComponent(channel)}`);
    if (res.status !== 200) throw new Error(`queue GET ${channel} answered ${res.status}: ${res.body}`);
    const message: unknown = JSON.parse(res.body);
    const empty = typeof message === 'object' && message !== null && Object.keys(message).length === 0;
    return empty ? null : message;
  }

  async close(): Promise<void> {
    this.http.close();
  }
}
