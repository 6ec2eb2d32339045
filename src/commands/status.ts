import { terminalWidth } from "../cli/table.ts";
import { controlJson, NotRunningError } from "../supervisor/control.ts";
import { formatStatus } from "../supervisor/format.ts";
import { refuseAnotherServed } from "../supervisor/target.ts";
import type { StatusReport } from "../supervisor/status.ts";
import { readableTarget } from "./_config.ts";
import { configArgs, defineGwCommand, jsonArgs, printJson } from "./_shared.ts";
import { ABOUT } from "./index.ts";

export default defineGwCommand({
  meta: { name: "status", description: ABOUT.status },
  args: { ...configArgs, ...jsonArgs },
  async run({ args }) {
    const { file, paths } = await readableTarget(args.config);
    await refuseAnotherServed(file, "status");
    let report: StatusReport;
    try {
      report = await controlJson<StatusReport>(paths, "/status");
    } catch (err) {
      // A script asking for JSON gets JSON either way (and the same exit code as the text form).
      if (!(err instanceof NotRunningError) || !args.json) throw err;
      printJson({ running: false, dir: paths.dir, message: err.message });
      return 1;
    }
    if (args.json) printJson({ running: true, ...report });
    else console.log(formatStatus(report, Date.now(), terminalWidth()));
  },
});
