/** The typed form of a spec file (what the schema allows, after validation). */

/** How to reach a host; secrets only by reference. */
export interface HostSpec {
  host?: string;
  port?: number;
  user?: string;
  hostKey?: string;
  knownHostsFile?: string;
  insecureIgnoreHostKey?: boolean;
  privateKeyFile?: string;
  privateKeyEnv?: string;
  privateKeyConfig?: string;
  passwordEnv?: string;
  sudo?: boolean;
  local?: boolean;
  netns?: string;
  /** A jump host to reach `host` through. */
  proxy?: ProxySpec;
}

/** A jump host: the SSH fields of a {@link HostSpec}. */
export type ProxySpec = Pick<HostSpec, "host" | "port" | "user" | "hostKey" | "knownHostsFile" | "insecureIgnoreHostKey" | "privateKeyFile" | "privateKeyEnv" | "privateKeyConfig" | "passwordEnv"> & { host: string };

/** A bridge on a host. */
export interface BridgeSpec {
  host: string;
  name: string;
  addresses?: string[];
  mtu?: number;
  stp?: boolean;
  /** Take over an existing bridge that is not ours; released, not deleted, on destroy. */
  adopt?: boolean;
}

/** A route inside a container. */
export interface RouteSpec {
  to: string;
  via?: string;
}

/** A container interface on a bridge. */
export interface InterfaceSpec {
  bridge: string;
  ifname?: string;
  addresses?: string[];
  gateway?: string;
  /** IPv6 default gateway beside an IPv4 `gateway`. */
  gateway6?: string;
  routes?: RouteSpec[];
  mtu?: number;
}

/** A container and its interfaces. */
export interface ContainerSpec {
  host: string;
  name: string;
  docker?: string;
  netns?: string;
  interfaces?: InterfaceSpec[];
  /** Names this container resolves (its /etc/hosts): another container of the host, or an alias for an address. */
  hosts?: (string | { name: string; address: string })[];
}

/** One end of a point-to-point link. */
export interface LinkEndSpec {
  container: string;
  ifname?: string;
  addresses: string[];
}

/** A point-to-point link. */
export interface LinkSpec {
  host: string;
  a: LinkEndSpec;
  b: LinkEndSpec;
}

/** MASQUERADE of a bridge's subnet. */
export interface MasqueradeSpec {
  host: string;
  bridge: string;
}

/** A published port. */
export interface PublishSpec {
  host: string;
  container: string;
  protocol?: "tcp" | "udp";
  hostPort: number | string;
  port?: number;
  hostIp?: string;
}

/** A whole spec file. */
export interface Spec {
  /** The schema of the file, for editors; ignored. */
  $schema?: string;
  /** The network's name: `hostnet` names the Pulumi project (and by default the stack) after it. */
  name: string;
  hosts: Record<string, HostSpec>;
  bridges?: BridgeSpec[];
  containers?: ContainerSpec[];
  links?: LinkSpec[];
  nat?: { masquerade?: MasqueradeSpec[]; publish?: PublishSpec[] };
  overlays?: OverlaySpec[];
}

/** One host of a VXLAN segment. */
export interface OverlayMemberSpec {
  host: string;
  /** The host's underlay address. */
  address: string;
  /** The bridge on that host that joins the segment. */
  bridge: string;
}

/** A VXLAN segment across hosts. */
export interface OverlaySpec {
  name: string;
  vni: number;
  /** Device name on each member (default `hnvx<vni>`). */
  ifname?: string;
  port?: number;
  /** Default: what a 1500-byte underlay carries (1450 over IPv4, 1430 over IPv6). */
  mtu?: number;
  members: OverlayMemberSpec[];
}

/** A loaded spec: the data and where it came from. */
export interface LoadedSpec {
  readonly file: string;
  readonly spec: Spec;
}
