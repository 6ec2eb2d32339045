import { consola } from "consola";
import { CliError } from "../cli/errors.ts";
import type { Config } from "../config/types.ts";
import { withInstanceKeys, writeInstanceFiles } from "../instances/index.ts";
import { ensureFetchLimit } from "../lb/concurrency.ts";
import { createReloader, restartOnlyChanges } from "../lb/reload.ts";
import { startGateway } from "../lb/server.ts";
import { configArgs, defineGwCommand } from "./_shared.ts";
import { loadValidConfig, requireConfigFile } from "./_config.ts";

export default defineGwCommand({
  meta: { name: "lb", description: "serve the load balancer alone, against instances already running" },
  args: {
    ...configArgs,
    port: { type: "string", description: "listen on this port instead of [global] main_port", valueHint: "PORT" },
  },
  async run({ args }) {
    ensureFetchLimit();
    const file = requireConfigFile(args.config);
    const port = args.port === undefined ? undefined : Number(args.port);
    if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) {
      throw new CliError(`--port ${args.port} is not a port number`, 1, "use 0-65535, e.g. --port 8145");
    }
    const prepare = async (c: Config) => {
      const keyed = await withInstanceKeys(c);
      await writeInstanceFiles(keyed); // changed instances pick up their new YAML themselves
      return keyed;
    };
    const first = await prepare(await loadValidConfig(file));
    const gateway = startGateway(first, { port });
    consola.info(`gw lb listening on ${gateway.url}`);
    const listening = { port: gateway.port, host: first.global.bindHost, portFromFlag: port !== undefined };
    const apply = async (c: Config) => {
      for (const line of restartOnlyChanges(listening, c)) consola.warn(line);
      gateway.reload(await prepare(c));
    };
    const reloader = createReloader({ file, includes: gateway.config().includes, log: consola, apply });
    await new Promise<void>((done) => {
      const stop = () => {
        reloader.close();
        void gateway.stop().then(done);
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
  },
});
