/**
 * HTTP helpers for the integration tests, on node:http so that every header
 * and byte sent is exactly what the test says (no default Accept or
 * Content-Type, no "bad port" refusals as with fetch), with a fresh
 * connection per request so one test's broken request never leaks into the
 * next one's socket.
 */
import http, { IncomingHttpHeaders } from 'node:http';
import net from 'node:net';

export const HOST = '127.0.0.1';

export interface RawRequest {
  method: string;
  /** Sent exactly as given: percent-encode it yourself. */
  path: string;
  /** Exactly these headers, plus Host (and Content-Length when a body is given and none is set). */
  headers?: Record<string, string>;
  /** A string or bytes, or an array of chunks to send chunked (no Content-Length). */
  body?: string | Buffer | (string | Buffer)[];
  timeoutMs?: number;
  host?: string;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON; throws, with the body in the message, when it is not JSON. */
  json(): any;
}

export function request(port: number, req: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...(req.headers ?? {}) };
    const chunked = Array.isArray(req.body);
    if (req.body !== undefined && !chunked && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) {
      headers['Content-Length'] = String(Buffer.byteLength(req.body as string | Buffer));
    }
    const timeoutMs = req.timeoutMs ?? 10_000;
    const r = http.request(
      { host: req.host ?? HOST, port, method: req.method, path: req.path, headers, agent: false, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json() {
              try {
                return JSON.parse(text);
              } catch {
                throw new Error(`response ${res.statusCode} is not JSON: ${JSON.stringify(text.slice(0, 300))}`);
              }
            },
          });
        });
      },
    );
    r.on('timeout', () => r.destroy(new Error(`timed out after ${timeoutMs} ms: ${req.method} ${req.path} on ${port}`)));
    r.on('error', reject);
    if (chunked) {
      for (const c of req.body as (string | Buffer)[]) r.write(c);
      r.end();
    } else {
      r.end(req.body);
    }
  });
}

export const JSON_HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json' };

export const teaPath = (tea: string) => `/rating/${encodeURIComponent(tea)}`;

export type ClockJson = Record<string, number>;

export interface RatingView {
  rating: number;
  choices: number[];
  clocks: ClockJson[];
}

/** PUT a rating the way a well-behaved client does; returns the raw response. */
export function putRating(port: number, tea: string, rating: unknown, clock: unknown): Promise<RawResponse> {
  return request(port, { method: 'PUT', path: teaPath(tea), headers: JSON_HEADERS, body: JSON.stringify({ rating, clock }) });
}

export function getRating(port: number, tea: string, consistency?: string): Promise<RawResponse> {
  const query = consistency === undefined ? '' : `?consistency=${encodeURIComponent(consistency)}`;
  return request(port, { method: 'GET', path: teaPath(tea) + query, headers: { Accept: 'application/json' } });
}

export function deleteRating(port: number, tea: string): Promise<RawResponse> {
  return request(port, { method: 'DELETE', path: teaPath(tea), headers: { Accept: 'application/json' } });
}

/** PUT that must succeed: returns the parsed body, or throws with the status and body. */
export async function putOk(port: number, tea: string, rating: number, clock: ClockJson): Promise<{ rating: number }> {
  const res = await putRating(port, tea, rating, clock);
  if (res.status !== 200) throw new Error(`PUT ${tea} on ${port} answered ${res.status}: ${res.text}`);
  return res.json();
}

/** GET that must succeed: returns the parsed body. */
export async function getOk(port: number, tea: string, consistency?: string): Promise<RatingView> {
  const res = await getRating(port, tea, consistency);
  if (res.status !== 200) throw new Error(`GET ${tea} on ${port} answered ${res.status}: ${res.text}`);
  return res.json();
}

/**
 * Write raw bytes on a TCP connection and collect whatever comes back until
 * the server closes or `waitMs` passes: for input that is not even HTTP, and
 * for requests abandoned half-way.
 */
export function rawTcp(port: number, bytes: string | Buffer, options: { waitMs?: number; end?: boolean } = {}): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
    let got = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(got);
    };
    const timer = setTimeout(done, options.waitMs ?? 1000);
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (got += d));
    socket.on('error', done);
    socket.on('close', done);
    socket.on('connect', () => {
      if (options.end ?? true) socket.end(bytes);
      else socket.write(bytes);
    });
  });
}

/**
 * POST a body the server may refuse before reading all of it (a 413). `request` sends Connection: close, so the
 * server closes once it has answered and the rest of a large upload races an EPIPE against the answer; here the
 * connection is keep-alive, the server drains what is left, and the socket is dropped once the answer is in.
 */
export function postRefusable(port: number, path: string, headers: Record<string, string>, body: string | string[]): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const all: Record<string, string> = { ...headers, Connection: 'keep-alive' };
    if (typeof body === 'string') all['Content-Length'] = String(Buffer.byteLength(body));
    let settled = false;
    const r = http.request({ host: HOST, port, method: 'POST', path, headers: all, agent: false, timeout: 20_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        settled = true;
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
        r.destroy();
      });
    });
    r.on('timeout', () => r.destroy(new Error(`timed out: POST ${path} on ${port}`)));
    r.on('error', (e) => {
      if (!settled) reject(e);
    });
    if (typeof body === 'string') r.end(body);
    else {
      for (const c of body) r.write(c);
      r.end();
    }
  });
}
