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
}

interface RawInspect {
  Id?: string;
  Name?: string;
  State?: { Running?: boolean; Pid?: number };
  HostConfig?: { NetworkMode?: string };
}

/** Parses the JSON array printed by `docker inspect`. */
export function parseDockerInspect(stdout: string): ContainerInfo | undefined {
  const list = JSON.parse(stdout) as RawInspect[];
  const c = list[0];
  if (!c) return undefined;
  return {
    id: c.Id ?? "",
    name: (c.Name ?? "").replace(/^\//, ""),
    running: c.State?.Running === true,
    pid: c.State?.Pid ?? 0,
    networkMode: c.HostConfig?.NetworkMode ?? "",
  };
}
