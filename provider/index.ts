/**
 * pulumi-hostnet: Pulumi resources for container networking on Linux hosts.
 *
 * @packageDocumentation
 */
export { Bridge, BridgeArgs } from "./resources/bridge";
export { VethPair, VethPairArgs } from "./resources/veth";
export { NatRule, NatRuleArgs } from "./resources/nat";
export { ContainerAttachment, ContainerAttachmentArgs, ContainerRef, RouteArgs } from "./resources/attachment";
export { HostsEntries, HostsEntriesArgs, HostsEntryArgs } from "./resources/hosts";
export { Vxlan, VxlanArgs } from "./resources/vxlan";
export { Connection, ConnectionSpec } from "./host/connection";
export { CommandError, ConnectionError, HostnetError, ValidationError } from "./host/errors";
export { StepError } from "./resources/common/steps";
export { Runner, RunOptions, RunResult } from "./host/runner";
export { runnerFor } from "./host";
export { Topology, TopologyArgs, HostInventory } from "./topology/topology";
export { loadSpec, parseSpec } from "./spec/load";
export { SpecError, SpecProblem, formatProblem } from "./spec/errors";
export { Spec, LoadedSpec } from "./spec/types";
export { toMermaid, toDot } from "./topology/graph";
export { guardedProgram, isolateEngineLinks, ENGINE_LINK_LOST } from "./automation/engine-link";
export { workspaceOptions, WorkspaceOptionsArgs, chooseEngine, EngineChoice } from "./automation/engine";
