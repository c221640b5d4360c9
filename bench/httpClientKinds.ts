/**
 * The HTTP clients the benchmark compares for the product's internal hops
 * (`npm run bench -- --only clients`): the product's own (lib/net/httpClient.ts,
 * undici), node:http with a keep-alive agent, and got.
 */
import http from 'node:http';
import type { Got } from 'got';
import { DEFAULT_TIMEOUT_MS, HttpClient, HttpResponse, JSON_HEADERS, createHttpClient, headersWith } from '../lib/net/httpClient';

export type HttpClientKind = 'undici' | 'node' | 'got';
export const HTTP_CLIENT_KINDS: readonly HttpClientKind[] = ['undici', 'node', 'got'];
/** What the product uses. */
export const DEFAULT_HTTP_CLIENT: HttpClientKind = 'undici';

function keepAliveAgent(): http.Agent {
  // maxSockets bounds how many connections one LB opens to one DB under load.
  return new http.Agent({ keepAlive: true, maxSockets: 64, keepAliveMsecs: 1000 });
}

function nodeHttpClient(): HttpClient {
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

function gotClient(): HttpClient {
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

export function clientKinds(): string[] {
  return [...HTTP_CLIENT_KINDS];
}

export function benchHttpClient(kind: string): HttpClient {
  switch (kind) {
    case 'undici':
      return createHttpClient();
    case 'node':
      return nodeHttpClient();
    case 'got':
      return gotClient();
    default:
      throw new Error(`unknown HTTP client kind ${JSON.stringify(kind)}; one of ${clientKinds().join(', ')}`);
  }
}
