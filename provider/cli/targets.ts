/** Engine targets for `--host`: which resources of a spec and of its state belong to the hosts asked for. */
import { HostPlan, resourceNamesOf } from "../topology/plan";
import { hostOfName } from "../topology/graph";
import { HOSTNET_TYPE_PREFIX, StateResource, urnName } from "./removed";

/**
 * What the engine must target so that a run touches only `selected` hosts:
 * each resource the spec declares there (a glob on its exact name, which
 * matches it whether it exists yet or not: names hold no `:` or `*`), and
 * each resource of the state that is theirs (by URN: what left the spec
 * there is deleted too). The `Topology` component that parents them is
 * targeted only while it does not exist yet (a first run), and never for a
 * destroy: with dependents, targeting it would take in every host.
 */
export function hostTargets(selected: readonly string[], plans: readonly HostPlan[], state: readonly StateResource[], specHosts: readonly string[], destroy = false): string[] {
  const want = new Set(selected);
  const names = resourceNamesOf(plans.filter((p) => want.has(p.host)));
  const fromState = state.filter((r) => r.type.startsWith(HOSTNET_TYPE_PREFIX) && want.has(hostOfName(urnName(r.urn), specHosts))).map((r) => r.urn);
  const topology = !destroy && !state.some((r) => r.type === TOPOLOGY_TYPE) ? [`**${TOPOLOGY_TYPE}::*`] : [];
  return [...new Set([...topology, ...(destroy ? [] : [...names].map((n) => `**::${n}`)), ...fromState])];
}

/** The type of the `Topology` component. */
export const TOPOLOGY_TYPE = "hostnet:index:Topology";
