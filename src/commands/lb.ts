import { consola } from "consola";
import { CliError } from "../cli/errors.ts";
import { formatProblem } from "../config/index.ts";
import { rewriteUntilDone } from "../fs/rewrite.ts";
import { swapWithInstanceFiles, withInstanceKeys, writeInstanceFiles } from "../instances/index.ts";
import { ensureLbSettings } from "../lb/concurrency.ts";
import { describe } from "../lb/exposure.ts";
import { createReloader } from "../lb/reload.ts";
import { type RunningGateway, startGateway } from "../lb/server.ts";
import { maskedLog, maskerOf } from "../observe/mask.ts";
import { describeState } from "../config/state.ts";
import { openState } from "../state/index.ts";
import { refuseBusyMainPort } from "../supervisor/guard.ts";
import { listenFailure } from "../supervisor/listen-failure.ts";
import { connectLiveState } from "../supervisor/live.ts";
import { registerRunning } from "../supervisor/registry.ts";
import { monoNow } from "../supervisor/spawn.ts";
import { configArgs, defineGwCommand } from "./_shared.ts";
import { loadValidConfig, requireConfigFile } from "./_config.ts";
import { ABOUT } from "./index.ts";

export default defineGwCommand({
  meta: { name: "lb", description: ABOUT.lb },
  args: {
    ...configArgs,
    port: { type: "string", description: "listen on this port instead of [global] main_port", valueHint: "PORT" },
  },
  async run({ args }) {
    ensureLbSettings();
    const file = requireConfigFile(args.config);
    const port = args.port === undefined ? undefined : Number(args.port);
    if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) {
      throw new CliError(`--port ${args.port} is not a port number`, 1, "use 0-65535, e.g. --port 8145");
    }
    const first = await withInstanceKeys(await loadValidConfig(file));
    const { bindHost, mainPort } = first.global;
    // Refused as gw up refuses it, before anything is written: the port's holder named (another gw: exit 3).
    await refuseBusyMainPort(port ?? mainPort, bindHost, false);
    await writeInstanceFiles(first, (p) => consola.warn(formatProblem(p)));
    const state = await openState(first, consola);
    // Masked with the running config's secrets — the first config's until there is a gateway: its
    // prober logs through this from its start (reading `gateway` here then was a ReferenceError).
    let running: RunningGateway | undefined;
    const log = maskedLog({ info: (m: string) => consola.info(m), warn: (m: string) => consola.warn(m), error: (m: string) => consola.error(m) }, () => maskerOf(running?.config() ?? first));
    const startedAt = monoNow();
    let gateway: RunningGateway;
    try {
      gateway = running = startGateway(first, { port, state, log });
    } catch (err) {
      await state.close();
      throw new CliError(listenFailure(err, bindHost, port ?? mainPort));
    }
    // The status page and /metrics show what this gw keeps out (cooldowns) and how the instances it serves answer its probes.
    void connectLiveState(() => ({ config: gateway.config(), gateway, phase: "serving", startedAt, demo: false }), log);
    const reloader = createReloader({
      file,
      includes: gateway.config().includes,
      log,
      apply: async (c) => {
        const keyed = await withInstanceKeys(c);
        // Both or neither: the gateway refuses an opening config, a file may not be writable.
        // Changed instances pick up their new YAML themselves.
        return { notes: await swapWithInstanceFiles(keyed, () => gateway.reload(keyed)) };
      },
    });
    const registered = await registerRunning({ kind: "lb", config: gateway.config().file, url: gateway.url, demo: false });
    let stopped = false;
    let stopRetry = () => {};
    const problem = registered.problem();
    if (problem) {
      // A full disk's refusal of the registry entry: said, and the entry written once there is room (as gw up does).
      consola.warn(`${problem}; cld does not find this gw until it is written`);
      const written = () => consola.info(`${registered.file} written: cld finds this gw again`);
      stopRetry = rewriteUntilDone({ write: registered.write, file: registered.file, idle: () => stopped, written }).stop;
    }
    // Said once the file is watched and the gw is registered: an edit after this line is seen.
    consola.info(`gw lb listening on ${describe(gateway.listening)} (state: ${describeState(first.global.state)})`);
    await new Promise<void>((done) => {
      const stop = () => {
        reloader.close();
        stopped = true;
        stopRetry();
        void registered.remove().then(() => gateway.stop()).then(() => state.close()).then(done);
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
  },
});
