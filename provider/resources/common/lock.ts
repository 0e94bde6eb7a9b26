/** Serialises mutations per host within this process (the dynamic provider serves all resources of one engine run). */

const tails = new Map<string, Promise<void>>();

/** Runs `fn` after every earlier call for the same host has finished. */
export async function withHostLock<T>(hostId: string, fn: () => Promise<T>): Promise<T> {
  const prev = tails.get(hostId) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  const tail = prev.then(() => mine);
  tails.set(hostId, tail);
  await prev;
  try {
    return await fn();
  } finally {
    release();
    if (tails.get(hostId) === tail) tails.delete(hostId);
  }
}
