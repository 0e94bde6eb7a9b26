/** Mocha root hooks: whatever test hosts are still alive at the end are torn down. */
import { closeAllSsh } from "../../provider/host/ssh";
import { TestHost } from "./testhost";

export const mochaHooks = {
  async afterAll(): Promise<void> {
    closeAllSsh();
    for (const h of TestHost.live()) await h.destroy();
  },
};
