/** Where the tests find the repository, the built engine and Node. */
import * as path from "node:path";
import * as os from "node:os";

/** Repository root (tests run from dist/tests/…). */
export const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");

/** The Pulumi CLI version the project builds and tests against. */
export const PULUMI_VERSION = "v3.274.1";

/** Install prefix of the built engine (`bin/pulumi` and the dynamic provider shim). */
export function enginePrefix(): string {
  return process.env.HOSTNET_PULUMI_PREFIX ?? path.join(os.homedir(), ".cache", "pulumi-hostnet", `pulumi-${PULUMI_VERSION}`);
}
