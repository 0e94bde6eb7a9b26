// A standard Pulumi program (needs a Pulumi install with the Node.js language host):
//   pulumi config set --secret --path 'connection' '{"host":"10.0.0.5","hostKey":"ssh-ed25519 AAAA…","privateKey":"…"}'
//   pulumi config set web web ; pulumi up      # then: curl http://10.0.0.5:8080/
import * as pulumi from "@pulumi/pulumi";
import * as hostnet from "pulumi-hostnet";
import { s3 } from "./program";

const cfg = new pulumi.Config();
const out = s3(cfg.requireSecretObject<hostnet.ConnectionSpec>("connection"), { web: cfg.get("web") ?? "web" });
export const bridge = out.bridge;
export const iptablesFlavor = out.flavor;
