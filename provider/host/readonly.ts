/**
 * Which commands only read a host. Pure. Used to prove that `preview` reads
 * and never writes (tests trace every command), and by the fault hook to
 * count the mutating commands of an operation.
 */

/** Strips the wrappers a command may be run under: `sudo -n --`, `env VAR=…`, `nsenter … --`, `ip netns exec NAME`. */
export function innerCommand(argv: readonly string[]): readonly string[] {
  let a = argv;
  for (;;) {
    if ((a[0] === "sudo" || a[0] === "nsenter") && a.includes("--")) a = a.slice(a.indexOf("--") + 1);
    else if (a[0] === "env") {
      let i = 1;
      while (i < a.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(a[i])) i++;
      a = a.slice(i);
    } else if (a[0] === "ip" && a[1] === "netns" && a[2] === "exec") a = a.slice(4);
    else return a;
  }
}

const IP_OPTIONS = /^-(j|json|d|details|4|6|o|oneline|br|brief|s|stats|p|pretty|n|netns)$/;

function ipReads(a: readonly string[]): boolean {
  // `ip -j -d -batch -` is built only by ipJsonBatch (linux/ip.ts), which accepts nothing but `show` lines.
  if (a.includes("-batch")) return a.includes("-j") && a.at(-1) === "-";
  const words = a.slice(1).filter((w) => !IP_OPTIONS.test(w));
  const [object, verb] = words;
  if (object === undefined) return false;
  if (object === "netns") return verb === undefined || ["list", "identify", "show"].includes(verb);
  return verb === undefined || ["show", "list", "get", "lst", "sh"].includes(verb) || (object.startsWith("addr") && verb === "show");
}

/** `bridge [-j] [-d] fdb|link|vlan show …`. */
function bridgeReads(a: readonly string[]): boolean {
  const [object, verb] = a.slice(1).filter((w) => !/^-(j|json|d|details|s|stats|p|pretty)$/.test(w));
  return object !== undefined && (verb === undefined || ["show", "list", "sh"].includes(verb));
}

/** Whether `argv` (after its wrappers) only reads the host. Unknown commands count as writes. */
export function isReadOnlyCommand(argv: readonly string[]): boolean {
  const a = innerCommand(argv);
  const head = a[0] ?? "";
  if (head === "ip") return ipReads(a);
  if (head === "bridge") return bridgeReads(a);
  if (/^ip6?tables(-nft|-legacy)?-save$/.test(head)) return true;
  if (/^ip6?tables(-nft|-legacy)?$/.test(head)) return a.includes("--version") || a.some((w) => w === "-C" || w === "-S" || w === "-L");
  if (head === "nft") return a.includes("list");
  if (head === "docker") return ["inspect", "ps", "version", "info", "events"].includes(a[1] ?? "");
  if (head === "sysctl") return !a.includes("-w") && !a.some((w) => w.includes("="));
  return ["stat", "cat", "readlink", "test", "true", "id", "uname"].includes(head);
}
