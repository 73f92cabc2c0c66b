/**
 * Leases protect what running pulls are assembling (blobs, snapshots) from garbage
 * collection until the image record that references them is stored.
 */
export class Leases {
  private readonly blobs = new Map<string, number>();
  private readonly snaps = new Map<string, number>();

  open(): Lease {
    return new Lease(this.blobs, this.snaps);
  }

  leasedBlobs(): ReadonlySet<string> {
    return new Set(this.blobs.keys());
  }

  leasedSnapshots(): ReadonlySet<string> {
    return new Set(this.snaps.keys());
  }
}

export class Lease {
  private readonly held: [Map<string, number>, string][] = [];
  private released = false;

  constructor(
    private readonly blobs: Map<string, number>,
    private readonly snaps: Map<string, number>,
  ) {}

  blob(digest: string): void {
    this.take(this.blobs, digest);
  }

  snapshot(chainId: string): void {
    this.take(this.snaps, chainId);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    for (const [map, key] of this.held) {
      const n = (map.get(key) ?? 1) - 1;
      if (n <= 0) map.delete(key);
      else map.set(key, n);
    }
  }

  private take(map: Map<string, number>, key: string): void {
    if (this.released) throw new Error('lease already released');
    map.set(key, (map.get(key) ?? 0) + 1);
    this.held.push([map, key]);
  }
}
