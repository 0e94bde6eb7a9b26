/**
 * Docker for tests: a local image made without any registry (`docker import`
 * of a busybox-static rootfs with sh, ip, ping, httpd, nc, wget), built once
 * and reused, and test containers named `hnt-…` that are always removed.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { sh, tryRun } from "./procs";

/** The test image. */
export const TEST_IMAGE = "hostnet-test/busybox:2";
const APPLETS = ["sh", "timeout", "ip", "ping", "httpd", "nc", "wget", "sleep", "cat", "echo", "ls", "hostname", "ps", "kill", "mkdir", "env", "true", "false", "grep", "sysctl", "route", "ifconfig", "printf"];

const running = new Set<string>();
let seq = 0;

/** Builds the image when missing. */
export async function ensureTestImage(): Promise<void> {
  if ((await tryRun(["docker", "image", "inspect", TEST_IMAGE])).exitCode === 0) return;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "hostnet-rootfs-"));
  const tar = path.join(os.tmpdir(), `hostnet-rootfs-${process.pid}.tar`);
  try {
    for (const d of ["bin", "etc", "tmp", "www", "proc", "sys", "dev"]) fs.mkdirSync(path.join(root, d));
    fs.copyFileSync("/bin/busybox", path.join(root, "bin", "busybox"));
    fs.chmodSync(path.join(root, "bin", "busybox"), 0o755);
    for (const a of APPLETS) fs.symlinkSync("busybox", path.join(root, "bin", a));
    fs.writeFileSync(path.join(root, "etc", "passwd"), "root:x:0:0:root:/:/bin/sh\n");
    fs.writeFileSync(path.join(root, "www", "index.html"), "hello from hostnet\n");
    await sh(["tar", "-C", root, "-cf", tar, "."]);
    await sh(["docker", "import", "--change", 'CMD ["/bin/sh"]', "--change", "ENV PATH=/bin", tar, TEST_IMAGE]);
  } finally {
    // Also when the import fails (dockerd not up yet): the next run builds it again.
    fs.rmSync(tar, { force: true });
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** Runs a test container (default `--net=none`, running `sleep`); it is removed by {@link removeContainers}. */
export async function runContainer(label: string, opts: { net?: string; args?: string[]; cmd?: string[] } = {}): Promise<string> {
  await ensureTestImage();
  const name = `hnt-${label}-${process.pid}-${++seq}`;
  running.add(name);
  await sh(["docker", "run", "-d", "--name", name, `--net=${opts.net ?? "none"}`, ...(opts.args ?? []), TEST_IMAGE, ...(opts.cmd ?? ["sleep", "86400"])]);
  return name;
}

/** PID of a running container. */
export async function containerPid(name: string): Promise<number> {
  return Number((await sh(["docker", "inspect", "-f", "{{.State.Pid}}", name])).trim());
}

/** Runs a command in a container and returns the result. */
export function dockerExec(name: string, argv: string[]) {
  return tryRun(["docker", "exec", name, ...argv]);
}

/** Removes the given containers (or every one this process started). */
export async function removeContainers(names: string[] = [...running]): Promise<void> {
  for (const n of names) {
    await tryRun(["docker", "rm", "-f", "-v", n]);
    running.delete(n);
  }
}

/** Starts each named `--net=none` container unless it is already running (the demo's and the examples'; they outlive the process). */
export async function ensureNamedContainers(names: readonly string[]): Promise<void> {
  await ensureTestImage();
  for (const name of names) {
    const state = await tryRun(["docker", "inspect", "-f", "{{.State.Running}}", name]);
    if (state.exitCode === 0 && state.stdout.trim() === "true") continue;
    await tryRun(["docker", "rm", "-f", name]);
    console.log(`==> docker run -d --name ${name} --net=none ${TEST_IMAGE} sleep 1d`);
    await sh(["docker", "run", "-d", "--name", name, "--net=none", TEST_IMAGE, "sleep", "86400"]);
  }
}
