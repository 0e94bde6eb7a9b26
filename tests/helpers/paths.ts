/** Where the tests find the repository. */
import * as path from "node:path";

/** Repository root (tests run from dist/tests/…). */
export const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
