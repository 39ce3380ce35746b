/**
 * Lets jobs in while the sum of their weights stays within a capacity, first come first served. The
 * eval runs searches of very different sizes at once: 16 searches of 64 generations each hold 16 times
 * the KV pages of 16 searches of 4, so a plain count of searches in flight cannot keep the KV pool
 * from running dry; their generations can.
 */
export class WeightedGate {
  private used = 0;
  private readonly waiting: Array<{ weight: number; enter: () => void }> = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`Expected a positive integer capacity, got ${capacity}`);
  }

  /** Resolves once the job may start; a weight above the capacity counts as the whole capacity. */
  async enter(weight: number): Promise<number> {
    const w = Math.min(Math.max(1, Math.ceil(weight)), this.capacity);
    if (this.waiting.length === 0 && this.used + w <= this.capacity) {
      this.used += w;
      return w;
    }
    await new Promise<void>((enter) => this.waiting.push({ weight: w, enter }));
    return w;
  }

  /** Gives back what `enter` returned. */
  leave(admitted: number): void {
    this.used -= admitted;
    // In order: a big job at the head waits for room rather than being overtaken forever by small ones.
    while (this.waiting.length > 0 && this.used + this.waiting[0]!.weight <= this.capacity) {
      const next = this.waiting.shift()!;
      this.used += next.weight;
      next.enter();
    }
  }
}
