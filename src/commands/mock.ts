import { defineCommand } from "citty";
import { CliError } from "../cli/errors.ts";
import { ArgvError, MOCK_HELP, type MockArgs, parseMockArgv } from "../mock/argv.ts";
import { FaultSpecError, startMock } from "../mock/index.ts";
import { ABOUT } from "./index.ts";

// mock takes the real CLIProxyAPI's single-dash flags (-config FILE), so it parses argv itself.
export default defineCommand({
  meta: { name: "mock", description: ABOUT.mock },
  run({ rawArgs }) {
    let args: MockArgs;
    try {
      args = parseMockArgv(rawArgs);
    } catch (err) {
      if (err instanceof ArgvError) throw new CliError(`mock: ${err.message}`, 2, 'see "gw mock --help"');
      throw err;
    }
    if (args.kind === "help") return void console.log(MOCK_HELP);
    if (args.kind === "login") return void console.log(loginLine(args));

    let mock: ReturnType<typeof startMock>;
    try {
      mock = startMock(args.options);
    } catch (err) {
      if (err instanceof FaultSpecError) throw new CliError(`mock: -fault: ${err.message}`, 2);
      const e = err as NodeJS.ErrnoException;
      if (e.code === "EADDRINUSE") throw new CliError(`mock: port ${args.options.port} is already in use`, 1, "pick another with --port, or 0 for a free one");
      throw new CliError(`mock: ${e.message}`, 1);
    }
    console.log(`gw mock "${mock.name}" listening on ${mock.url}`);
    const stop = () => void mock.stop().then(() => process.exit(0));
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  },
});

function loginLine(a: Extract<MockArgs, { kind: "login" }>): string {
  const cfg = a.config ?? "./config.yaml";
  if (a.flag === "vertex-import") return `gw mock: would import Vertex credentials from ${a.vertexImport} into the auth-dir of ${cfg}; nothing done`;
  const how = a.noBrowser ? "print the OAuth URL (no browser)" : "open a browser for OAuth";
  return `gw mock: -${a.flag} would ${how} and save the credential to the auth-dir of ${cfg}; nothing done`;
}
