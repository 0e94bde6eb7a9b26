import { TestHost } from "../helpers/testhost";
import { newStack } from "../helpers/engine";
import { Bridge } from "../../provider";

async function main() {
  const host = await TestHost.create("smoke");
  let st;
  try {
    const conn = host.connection();
    st = await newStack("smoke", async () => {
      const b = new Bridge("br", { connection: conn, name: "hnbr0", addresses: ["10.50.0.1/24"], mtu: 1400 });
      return { ifindex: b.ifindex };
    });
    const r = await st.stack.up({ onOutput: (s) => process.stdout.write(s), color: "never" });
    console.log(r.summary.resourceChanges, r.outputs);
    console.log(await host.exec(["ip", "-d", "addr", "show", "hnbr0"]));
    console.log("accepted", host.acceptedConnections());
  } finally {
    if (st) await st.cleanup().catch((e) => console.error("cleanup", e));
    await host.destroy();
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
