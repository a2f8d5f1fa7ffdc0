// Reads `etcd://HOST:PORT[,HOST:PORT...]/PREFIX`, the --store form of an etcd backend.
import { ValidationError } from '../errors.js';

export interface EtcdLocation {
  /** `http://HOST:PORT` each, as the etcd client takes them. */
  hosts: string[];
  /** The key prefix every key of the store starts with, without a trailing slash, e.g. `/trustplane`. */
  prefix: string;
}

export function parseEtcdUrl(url: string, field = 'store'): EtcdLocation {
  const match = /^etcd:\/\/([^/]+)(\/.*)?$/.exec(url);
  if (!match) throw new ValidationError(field, `expected etcd://HOST:PORT[,HOST:PORT...]/PREFIX, got "${url}"`);
  const hosts = match[1].split(',').map((h) => {
    if (!/^[A-Za-z0-9.\-_]+:\d{1,5}$|^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/.test(h)) {
      throw new ValidationError(field, `"${h}" in "${url}" is not HOST:PORT: list the etcd endpoints as HOST:PORT separated by commas`);
    }
    return `http://${h}`;
  });
  const prefix = (match[2] ?? '/trustplane').replace(/\/+$/, '');
  if (prefix === '') throw new ValidationError(field, `"${url}" has an empty key prefix: give one, e.g. etcd://127.0.0.1:2379/trustplane`);
  return { hosts, prefix };
}
