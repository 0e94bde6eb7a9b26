/**
 * The spec benchmark (issue 11): `hostnet validate` of generated specs of
 * about 1 and 5 MB (H hosts, each with a bridge, 1000 containers on it and
 * 100 published ports, plus masquerade), valid and with one problem at the
 * end, each in a process of its own: wall time and peak resident set
 * (`/usr/bin/time`-free: the child's `maxRSS` from `process.resourceUsage`).
 *
 *   npm run bench -- spec 1 5
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIOErvZhzCgwVuH/jsB4wTKk1pIVp6KIjk9avqDoJ1l9";

/** A spec of `hosts` hosts × 1000 containers (~120 KB per host), optionally with one wrong address in the last container. */
export function bigSpec(hosts: number, broken: boolean): string {
  const out = ["name: bench-spec", "hosts:"];
  for (let h = 0; h < hosts; h++) out.push(`  h${h}: { host: 10.0.${Math.floor(h / 250)}.${(h % 250) + 1}, hostKey: ${HOST_KEY} }`);
  out.push("bridges:");
  for (let h = 0; h < hosts; h++) out.push(`  - { host: h${h}, name: br0, addresses: [10.${h}.0.1/16] }`);
  out.push("containers:");
  for (let h = 0; h < hosts; h++) {
    for (let c = 0; c < 1000; c++) {
      const last = broken && h === hosts - 1 && c === 999;
      out.push(`  - host: h${h}`, `    name: c${c}`, "    interfaces:", `      - { bridge: br0, addresses: [${last ? "10.255.0.2" : `10.${h}.${Math.floor(c / 250)}.${(c % 250) + 2}`}/16], gateway: 10.${h}.0.1 }`);
    }
  }
  out.push("nat:", "  masquerade:");
  for (let h = 0; h < hosts; h++) out.push(`    - { host: h${h}, bridge: br0 }`);
  out.push("  publish:");
  for (let h = 0; h < hosts; h++) for (let p = 0; p < 100; p++) out.push(`    - { host: h${h}, container: c${p}, hostPort: ${8000 + p}, port: 80 }`);
  return out.join("\n") + "\n";
}

/** Runs the benchmark for spec sizes in MB; prints a Markdown table. */
export async function specBench(sizesMb: number[]): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hostnet-bench-spec-"));
  const cli = path.join(__dirname, "..", "bin", "hostnet.js");
  const rows: string[] = [];
  try {
    for (const mb of sizesMb) {
      for (const broken of [false, true]) {
        // ~123 KB per host of 1000 containers.
        const hosts = Math.max(1, Math.round((mb * 1e6) / 123_000));
        const file = path.join(dir, `spec-${mb}-${broken ? "broken" : "valid"}.yaml`);
        fs.writeFileSync(file, bigSpec(hosts, broken));
        const size = fs.statSync(file).size;
        // The child reports its own peak resident set when it exits.
        const probe = `process.on("exit", () => process.stderr.write("\\nmaxrss=" + process.resourceUsage().maxRSS + "\\n")); process.argv = [process.argv[0], ${JSON.stringify(cli)}, ...process.argv.slice(1)]; require(${JSON.stringify(cli)}).main(process.argv.slice(2)).then((c) => { process.exitCode = c; });`;
        const t = process.hrtime.bigint();
        const r = spawnSync(process.execPath, ["-e", probe, "validate", file], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
        const ms = Number(process.hrtime.bigint() - t) / 1e6;
        const rss = Number(/maxrss=(\d+)/.exec(r.stderr)?.[1] ?? 0) / 1024;
        const said = (r.stdout + r.stderr).split("\n").find((l) => l.includes("valid —") || l.includes("problem")) ?? "";
        rows.push(`| ${(size / 1e6).toFixed(1)} MB | ${hosts * 1000} | ${broken ? "one wrong address, last line" : "valid"} | ${(ms / 1000).toFixed(2)} s | ${Math.round(rss)} MiB | exit ${r.status}: ${said.replace(file, "FILE").replace(/\|/g, "\\|").slice(0, 90)} |`);
        console.error(rows[rows.length - 1]);
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(["spec benchmark: hostnet validate of generated specs, each in a process of its own", "", "| size | containers | spec | validate | peak RSS | said |", "|---|---|---|---|---|---|", ...rows].join("\n"));
}
