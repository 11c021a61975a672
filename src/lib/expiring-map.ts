/**
 * A bounded map whose entries expire: what a gateway remembers of lookups for a few seconds. When full,
 * it starts over (cheaper than tracking use, and a full map of live entries is rare).
 */
export class ExpiringMap<K, V> {
  private readonly entries = new Map<K, { value: V; until: number }>();

  constructor(
    private readonly maxSize: number,
    private readonly ttlMs: number,
  ) {}

  /** The value set less than `ttlMs` ago, else undefined. */
  get(key: K, now = Date.now()): V | undefined {
    const entry = this.entries.get(key);
    return entry !== undefined && entry.until > now ? entry.value : undefined;
  }

  set(key: K, value: V, now = Date.now()): void {
    if (this.entries.size >= this.maxSize) this.entries.clear();
    this.entries.set(key, { value, until: now + this.ttlMs });
  }

  clear(): void {
    this.entries.clear();
  }
}
