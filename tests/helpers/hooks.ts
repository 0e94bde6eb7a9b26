/** Mocha root hooks: whatever test hosts and containers are still alive at the end are removed. */
import { closeAllSsh } from "../../provider/host/ssh";
import { TestHost } from "./testhost";
import { removeContainers } from "./docker";
import { forgetAllSnapshots } from "../../provider/resources/common/snapshot";

export const mochaHooks = {
  /** Provider tests script one host id differently from case to case: no read snapshot carries over. */
  beforeEach(): void {
    forgetAllSnapshots();
  },
  async afterAll(): Promise<void> {
    closeAllSsh();
    await removeContainers();
    for (const h of TestHost.live()) await h.destroy();
  },
};
