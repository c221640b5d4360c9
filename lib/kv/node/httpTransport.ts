/**
 * The transport between nodes over HTTP: POST /kv-internal/<method> with a
 * JSON body, on the project's keep-alive undici client (lib/net/httpClient).
 * Every call has a deadline of its own, so a peer that does not answer (cut
 * off, its packets dropped) holds nothing up for longer than the caller said.
 */
import { HttpClient, createHttpClient } from '../../net/httpClient';
import { PeerMethod, Transport } from './transport';

export const INTERNAL_PREFIX = '/kv-internal';

export function httpTransport(client: HttpClient = createHttpClient()): Transport {
  return {
    async call(peer: string, method: PeerMethod, body: unknown, timeoutMs: number) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${method} to ${peer} timed out after ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        const res = await Promise.race([client.request('POST', `http://${peer}${INTERNAL_PREFIX}/${method}`, JSON.stringify(body), timeoutMs), deadline]);
        if (res.status !== 200) throw new Error(`${method} to ${peer} answered ${res.status}: ${res.body.slice(0, 200)}`);
        return JSON.parse(res.body) as unknown;
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => client.close(),
  };
}
