/**
 * The HTTP client the LB uses to reach DBs and the DBs use to reach each
 * other: undici, with connections kept alive (a new TCP connection per
 * request costs more than the request). It cost the least CPU per request of
 * the clients measured side by side (docs/performance.md, "The HTTP
 * client"); the others live on in bench/httpClientKinds.ts, where
 * `npm run bench -- --only clients` compares them.
 */
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

/** Requests wait this long for an answer before failing; DBs answer in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 5000;

export const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };

/** JSON's headers, with a request's own on top. */
export const headersWith = (own?: Record<string, string>) => (own ? { ...JSON_HEADERS, ...own } : JSON_HEADERS);

export function createHttpClient(): HttpClient {
  // 64 connections per origin; no pipelining, so one slow answer holds up no other.
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
