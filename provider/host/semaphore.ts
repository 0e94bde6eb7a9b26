/** A counting semaphore: at most `slots` holders at once, the others wait in order. */
export class Semaphore {
  private readonly waiters: (() => void)[] = [];
  constructor(private free: number) {}
  /** Waits for a slot. */
  async take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((r) => this.waiters.push(r));
  }
  /** Takes a slot if one is free now. */
  tryTake(): boolean {
    if (this.free === 0) return false;
    this.free--;
    return true;
  }
  /** Gives a slot back (to the longest waiter, if any). */
  give(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free++;
  }
}
