/** Integration tests need root; in CI they fail loudly instead of skipping. */
import { isRoot } from "./procs";

/** Call in a `before` hook of every suite that creates namespaces. */
export function requireRoot(): void {
  if (!isRoot()) {
    throw new Error("this suite needs root (it creates network namespaces, veths and sshd test hosts); run the tests as root" + (process.env.CI ? " — CI must run as root" : ""));
  }
}
