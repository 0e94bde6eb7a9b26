/** argv builder and parser for `docker inspect`. Pure. */

/** `docker inspect --type container NAME`. */
export function dockerInspect(nameOrId: string): string[] {
  return ["docker", "inspect", "--type", "container", nameOrId];
}

/** What we need to know of a container. */
export interface ContainerInfo {
  readonly id: string;
  readonly name: string;
  readonly running: boolean;
  readonly pid: number;
  /** `none`, `host`, `bridge`, `container:<id>`, or a network name. */
  readonly networkMode: string;
  /** The host's file that Docker bind-mounts as the container's `/etc/hosts` (empty when Docker gives none). */
  readonly hostsPath: string;
}

interface RawInspect {
  Id?: string;
  Name?: string;
  State?: { Running?: boolean; Pid?: number };
  HostConfig?: { NetworkMode?: string };
  HostsPath?: string;
}

/** `docker inspect --type container NAME…`: one read for several containers (exit 1 when any is missing; the rest still print). */
export function dockerInspectAll(namesOrIds: readonly string[]): string[] {
  return ["docker", "inspect", "--type", "container", ...namesOrIds];
}

/** Parses every container of the JSON array printed by `docker inspect` (empty on no output). */
export function parseDockerInspectAll(stdout: string): ContainerInfo[] {
  if (stdout.trim() === "") return [];
  return (JSON.parse(stdout) as RawInspect[]).map((c) => ({
    id: c.Id ?? "",
    name: (c.Name ?? "").replace(/^\//, ""),
    running: c.State?.Running === true,
    pid: c.State?.Pid ?? 0,
    networkMode: c.HostConfig?.NetworkMode ?? "",
    hostsPath: c.HostsPath ?? "",
  }));
}

/** Parses the JSON array printed by `docker inspect`. */
export function parseDockerInspect(stdout: string): ContainerInfo | undefined {
  return parseDockerInspectAll(stdout)[0];
}

/** The container of `infos` that `ref` (a name, a full id or an id prefix) names. */
export function containerNamed(infos: readonly ContainerInfo[], ref: string): ContainerInfo | undefined {
  return infos.find((c) => c.name === ref) ?? infos.find((c) => c.id === ref) ?? (ref.length >= 4 ? infos.find((c) => c.id.startsWith(ref)) : undefined);
}
