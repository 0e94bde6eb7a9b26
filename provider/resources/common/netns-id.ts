/** The identity (inode) of a host's network namespace, read once per host per process. */
import { Runner } from "../../host/runner";
import { SELF_NETNS, statInode } from "../../linux/netns";

const known = new Map<string, string>();

/**
 * Inode of the network namespace commands run in on this host, used to name
 * host-side files (lock, recorded ip_forward) so namespaces sharing one /run
 * keep theirs apart; `host` when it cannot be read.
 */
export async function hostNetnsInode(runner: Runner): Promise<string> {
  const cached = known.get(runner.hostId);
  if (cached) return cached;
  const st = await runner.run(statInode(SELF_NETNS));
  const inode = st.exitCode === 0 && /^\d+$/.test(st.stdout.trim()) ? st.stdout.trim() : "host";
  known.set(runner.hostId, inode);
  return inode;
}
