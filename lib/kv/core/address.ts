/**
 * Node addresses: `host:port`, the name of a node everywhere (the view, clock
 * entries, origins). Hosts are IPv4 literals or DNS names, as the course's
 * containers were started; the port is 1 to 65535.
 */
import { KV_LIMITS } from './limits';

export interface HostPort {
  host: string;
  port: number;
}

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** The host and port of `address`, or a message saying what is wrong with it. */
export function parseAddress(address: unknown): HostPort | string {
  if (typeof address !== 'string' || address.length === 0) return 'an address must be a non-empty "host:port" string';
  if (address.length > KV_LIMITS.addressLength) return `an address is at most ${KV_LIMITS.addressLength} characters`;
  const colon = address.lastIndexOf(':');
  if (colon <= 0) return `${JSON.stringify(address)} is not "host:port"`;
  const host = address.slice(0, colon);
  const portText = address.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    return `${JSON.stringify(address)} has no port from 1 to 65535`;
  }
  if (!HOST.test(host)) return `${JSON.stringify(address)} has no valid host`;
  return { host, port: Number(portText) };
}

export function isAddress(address: unknown): address is string {
  return typeof parseAddress(address) !== 'string';
}

/** A comma-separated VIEW (spaces and empty items ignored), in order, without repeats; throws on a bad address. */
export function parseViewList(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const parsed = parseAddress(item);
    if (typeof parsed === 'string') throw new Error(`VIEW: ${parsed}`);
    if (!out.includes(item)) out.push(item);
  }
  return out;
}
