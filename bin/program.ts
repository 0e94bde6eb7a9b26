/**
 * The program of the root Pulumi.yaml: applies the spec file named in stack
 * config, so `pulumi up` works from a clone with a standard Pulumi install.
 *
 *   npm ci && npm run build
 *   pulumi stack init dev
 *   pulumi config set hostnet:spec examples/s6-multi-host/network.yaml
 *   pulumi config set --secret hostnet:node1Key "$(cat ~/.ssh/id_ed25519)"   # for hosts with privateKeyConfig: node1Key
 *   pulumi up
 */
import * as pulumi from "@pulumi/pulumi";
import { loadSpec } from "../provider/spec/load";
import { SpecError, formatProblem } from "../provider/spec/errors";
import { Topology } from "../provider/topology/topology";

const cfg = new pulumi.Config("hostnet");
const file = cfg.require("spec");
let topology: Topology;
try {
  topology = new Topology("hostnet", { spec: loadSpec(file) });
} catch (e) {
  if (e instanceof SpecError) throw new Error(`the spec ${file} is not valid:\n${e.problems.map(formatProblem).join("\n")}`);
  throw e;
}

/** Per host: bridges, container interfaces, published ports. */
export const inventory = topology.inventory;
