/** Mocha root hooks: whatever test hosts and containers are still alive at the end are removed. */
import { closeAllSsh } from "../../provider/host/ssh";
import { TestHost } from "./testhost";
import { removeContainers } from "./docker";

export const mochaHooks = {
  async afterAll(): Promise<void> {
    closeAllSsh();
    await removeContainers();
    for (const h of TestHost.live()) await h.destroy();
  },
};
