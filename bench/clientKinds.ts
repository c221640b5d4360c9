/**
 * The HTTP clients the benchmark compares: every kind the product's
 * lib/net/httpClient.ts offers (undici, node:http, got).
 */
import { HTTP_CLIENT_KINDS, HttpClient, createHttpClient, isHttpClientKind } from '../lib/net/httpClient';

export function clientKinds(): string[] {
  return [...HTTP_CLIENT_KINDS];
}

export function benchHttpClient(kind: string): HttpClient {
  if (isHttpClientKind(kind)) return createHttpClient(kind);
  throw new Error(`unknown HTTP client kind ${JSON.stringify(kind)}; one of ${clientKinds().join(', ')}`);
}
