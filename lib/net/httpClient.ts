/**
 * The HTTP client the LB uses to reach DBs and the DBs use to reach the
 * queue and each other. One interface, three implementations, measured side
 * by side by `npm run bench` (README "Choosing the HTTP client"): undici is
 * the default because it costs the least CPU per request (90 us against
 * node:http's 173 and got's 493 in the latest `npm run bench`). Every
 * implementation keeps connections alive: a new TCP connection per request
 * costs more than the request.
 */
import http from 'node:http';
import type { Got } from 'got';
import { Agent as UndiciAgent, request as undiciRequest } from 'undici';

export interface HttpResponse {
  status: number;
  body: string;
}

export interface HttpClient {
  /**
   * Send one request, as JSON (Content-Type and Accept application/json)
   * unless `headers` says otherwise. Rejects only when no HTTP response
   * arrives (refused, reset, timed out).
   */
  request(method: string, url: string, body?: string | Buffer, timeoutMs?: number, headers?: Record<string, string>): Promise<HttpResponse>;
  close(): void;
}

export type HttpClientKind = 'undici' | 'node' | 'got';

export const HTTP_CLIENT_KINDS: readonly HttpClientKind[] = ['undici', 'node', 'got'];

export const DEFAULT_HTTP_CLIENT: HttpClientKind = 'undici';

/** Requests wait this long for an answer before failing; DBs and the queue answer in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 5000;

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };

/** JSON's headers, with a request's own on top. */
const headersWith = (own?: Record<string, string>) => (own ? { ...JSON_HEADERS, ...own } : JSON_HEADERS);

function keepAliveAgent(): http.Agent {
  // maxSockets bounds how many connections one LB opens to one DB under load.
  return new http.Agent({ keepAlive: true, maxSockets: 64, keepAliveMsecs: 1000 });
}

export function nodeHttpClient(): HttpClient {
  const agent = keepAliveAgent();
  return {
    request(method, url, body, timeoutMs = DEFAULT_TIMEOUT_MS, headers) {
      return new Promise<HttpResponse>((resolve, reject) => {
        const req = http.request(url, { method, agent, headers: headersWith(headers), timeout: timeoutMs }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms: ${method} ${url}`)));
        req.on('error', reject);
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}

export function gotClient(): HttpClient {
  // Loaded only when chosen: got and its dependencies cost every process start-up time otherwise.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const got = (require('got') as { default: Got }).default;
  const agent = keepAliveAgent();
  const client = got.extend({
    agent: { http: agent },
    headers: JSON_HEADERS,
    throwHttpErrors: false,
    retry: { limit: 0 },
    followRedirect: false,
  });
  return {
    async request(method, url, body, timeoutMs = DEFAULT_TIMEOUT_MS, headers) {
      const res = await client(url, { method: method as 'GET', body, headers, timeout: { request: timeoutMs } });
      return { status: res.statusCode, body: res.body };
    },
    close: () => agent.destroy(),
  };
}

export function undiciClient(): HttpClient {
  // 64 connections per origin, like the node:http agent; no pipelining, so one slow answer holds up no other.
  // Connecting gets 2 s, not undici's 10: a peer that does not answer a SYN in 2 s is gone.
  // (Per-request AbortSignal.timeout would do the same but cost 5% of the LB's CPU in the profile.)
  const dispatcher = new UndiciAgent({
    connections: 64, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 60_000, pipelining: 1, connect: { timeout: 2000 },
  });
  return {
    async request(method, url, body, timeoutMs = DEFAULT_TIMEOUT_MS, headers) {
      const res = await undiciRequest(url, {
        method: method as 'GET', headers: headersWith(headers), body, dispatcher, headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
      });
      return { status: res.statusCode, body: await res.body.text() };
    },
    close: () => void dispatcher.close().catch(() => undefined),
  };
}

export function isHttpClientKind(x: unknown): x is HttpClientKind {
  return (HTTP_CLIENT_KINDS as readonly unknown[]).includes(x);
}

export function createHttpClient(kind: HttpClientKind = DEFAULT_HTTP_CLIENT): HttpClient {
  switch (kind) {
    case 'undici':
      return undiciClient();
    case 'node':
      return nodeHttpClient();
    case 'got':
      return gotClient();
  }
}
