/** Looking inside a container's network namespace from the machine (with the host's ip, which speaks JSON). */
import { containerPid } from "./docker";
import { sh } from "./procs";

/** `ip -j -d addr show` inside a container. */
export async function containerLinks(name: string): Promise<Record<string, unknown>[]> {
  const pid = await containerPid(name);
  return JSON.parse(await sh(["nsenter", `--net=/proc/${pid}/ns/net`, "--", "ip", "-j", "-d", "addr", "show"])) as Record<string, unknown>[];
}

/** IPv4 routes inside a container as `to via dev` strings. */
export async function containerRoutes(name: string): Promise<string[]> {
  const pid = await containerPid(name);
  const routes = JSON.parse(await sh(["nsenter", `--net=/proc/${pid}/ns/net`, "--", "ip", "-j", "route", "show"])) as { dst: string; gateway?: string; dev: string; protocol?: string }[];
  return routes.filter((r) => r.protocol !== "kernel").map((r) => `${r.dst}${r.gateway ? ` via ${r.gateway}` : ""} dev ${r.dev}`).sort();
}

/** Names of the links inside a container. */
export async function containerLinkNames(name: string): Promise<string[]> {
  return (await containerLinks(name)).map((l) => String(l.ifname)).sort();
}
