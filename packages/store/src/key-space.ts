/**
 * Builds Redis keys under one prefix, so deployments (and tests) can share a server
 * without colliding: `new KeySpace('affinity').key('recs', 'similar', '85123A')`
 * → `affinity:recs:similar:85123A`.
 */
export class KeySpace {
  constructor(readonly prefix: string) {
    if (!/^[A-Za-z0-9._:{}-]+$/.test(prefix)) throw new RangeError(`invalid key prefix ${JSON.stringify(prefix)}`);
  }

  key(...parts: readonly (string | number)[]): string {
    return [this.prefix, ...parts].join(':');
  }

  child(...parts: readonly (string | number)[]): KeySpace {
    return new KeySpace(this.key(...parts));
  }
}
