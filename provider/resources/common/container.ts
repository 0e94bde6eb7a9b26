/** Reading one Docker container on a host. */
import { CommandError } from "../../host/errors";
import { Runner } from "../../host/runner";
import { ContainerInfo, dockerInspect, parseDockerInspect } from "../../linux/docker";

/** `docker inspect` of one container; undefined when Docker does not know it. Throws {@link CommandError} when Docker cannot answer. */
export async function inspectContainer(runner: Runner, name: string): Promise<ContainerInfo | undefined> {
  const argv = dockerInspect(name);
  const res = await runner.run(argv);
  if (res.exitCode === 0) return parseDockerInspect(res.stdout);
  if (/No such (container|object)/i.test(res.stderr)) return undefined;
  throw new CommandError({ host: runner.hostId, argv, ...res, context: `inspect container ${name}` });
}
