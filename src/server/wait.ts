/**
 * The wait registry: a proposer registers its request id before proposing; the apply loop
 * triggers the id with the result when (and if) this member applies the entry. Entries proposed
 * by other members are applied here too, but nobody waits for them.
 */
export class WaitRegistry<T> {
  private readonly waiters = new Map<bigint, { resolve: (v: T) => void; reject: (e: unknown) => void }>();

  register(id: bigint): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.waiters.has(id)) throw new Error(`duplicate request id ${id}`);
      this.waiters.set(id, { resolve, reject });
    });
  }

  isRegistered(id: bigint): boolean {
    return this.waiters.has(id);
  }

  trigger(id: bigint, value: T): void {
    const w = this.waiters.get(id);
    if (!w) return;
    this.waiters.delete(id);
    w.resolve(value);
  }

  fail(id: bigint, err: unknown): void {
    const w = this.waiters.get(id);
    if (!w) return;
    this.waiters.delete(id);
    w.reject(err);
  }

  failAll(err: unknown): void {
    for (const id of [...this.waiters.keys()]) this.fail(id, err);
  }

  get size(): number {
    return this.waiters.size;
  }
}
