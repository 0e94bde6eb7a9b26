// A standard Pulumi program (needs a Pulumi install with the Node.js language host):
//   pulumi config set --secret --path 'connection' '{"host":"10.0.0.5","hostKey":"ssh-ed25519 AAAA…","privateKey":"…"}'
//   pulumi config set base base ; pulumi config set other other ; pulumi up
import * as pulumi from "@pulumi/pulumi";
import * as hostnet from "pulumi-hostnet";
import { s1 } from "./program";

const cfg = new pulumi.Config();
const out = s1(cfg.requireSecretObject<hostnet.ConnectionSpec>("connection"), { base: cfg.get("base") ?? "base", other: cfg.get("other") ?? "other" });
export const bridge = out.bridge;
export const baseAddresses = out.base;
export const otherAddresses = out.other;
