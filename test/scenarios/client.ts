/** A small HTTP client for the scenarios: the store's API as typed calls. */
import { Clock } from '../../lib/core/clock';
import { HttpClient } from '../../lib/net/httpClient';

export interface Reading {
  rating: number;
  choices: number[];
  clocks: Clock[];
}

export class StoreClient {
  constructor(
    private readonly http: HttpClient,
    readonly base: string,
  ) {}

  private url(tea: string, query = ''): string {
    return `${this.base}/rating/${encodeURIComponent(tea)}${query}`;
  }

  private async json(method: string, url: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await this.http.request(method, url, body === undefined ? undefined : JSON.stringify(body));
    return { status: res.status, body: JSON.parse(res.body) };
  }

  async put(tea: string, rating: number, clock: Clock): Promise<number> {
    const res = await this.json('PUT', this.url(tea), { rating, clock });
    if (res.status !== 200) throw new Error(`PUT ${tea} answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body.rating;
  }

  async get(tea: string, consistency?: 'strong' | 'weak'): Promise<Reading> {
    const res = await this.json('GET', this.url(tea, consistency ? `?consistency=${consistency}` : ''));
    if (res.status !== 200) throw new Error(`GET ${tea} answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** GET /health: at the LB, which DBs it believes are up (`up`); at a DB, its gossip state. */
  async health(): Promise<Record<string, unknown>> {
    return (await this.json('GET', `${this.base}/health`)).body;
  }

  async delete(tea: string): Promise<{ status: number; body: any }> {
    return this.json('DELETE', this.url(tea));
  }
}

export class QueueClient {
  constructor(
    private readonly http: HttpClient,
    readonly base: string,
  ) {}

  async put(channel: string, message: object): Promise<void> {
    const res = await this.http.request('PUT', `${this.base}/q/${channel}`, JSON.stringify(message));
    if (res.status !== 200) throw new Error(`queue PUT answered ${res.status}: ${res.body}`);
  }

  async take(channel: string): Promise<Record<string, unknown>> {
    const res = await this.http.request('GET', `${this.base}/q/${channel}`);
    return JSON.parse(res.body);
  }

  /** Per channel, the messages the queue holds (GET /stats). */
  async stats(): Promise<Record<string, { held: number; delivered: number; subscribed: boolean }>> {
    const res = await this.http.request('GET', `${this.base}/stats`);
    return (JSON.parse(res.body) as { channels: Record<string, { held: number; delivered: number; subscribed: boolean }> }).channels;
  }

  async clear(): Promise<Record<string, number>> {
    const res = await this.http.request('DELETE', `${this.base}/clear`);
    return JSON.parse(res.body);
  }
}
