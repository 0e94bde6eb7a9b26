// A standard Pulumi program (needs a Pulumi install with the Node.js language host):
//   pulumi config set --secret --path 'connection' '{"host":"10.0.0.5","hostKey":"ssh-ed25519 AAAA…","privateKey":"…"}'
//   pulumi config set test1 test1 ; pulumi config set test2 test2 ; pulumi up
import * as pulumi from "@pulumi/pulumi";
import * as hostnet from "pulumi-hostnet";
import { s5 } from "./program";

const cfg = new pulumi.Config();
const out = s5(cfg.requireSecretObject<hostnet.ConnectionSpec>("connection"), { test1: cfg.get("test1") ?? "test1", test2: cfg.get("test2") ?? "test2" });
export const test1Addresses = out.test1;
export const test2Addresses = out.test2;
