// gw route explain as a user runs it: a body from a file or stdin, every step in plain text.
import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../helpers/tmp.ts";
import { body, ROUTER_ROUTES, routerTable } from "./fixture.ts";

const MAIN = join(import.meta.dir, "../../../src/main.ts");

function setup(): string {
  const dir = tempDir("gw-explain-");
  const instances = `[instances.cheap]\nport = 18201\nproviders = [{ type = "anthropic", api_keys = ["k"] }]\n[instances.strong]\nport = 18202\nproviders = [{ type = "anthropic", api_keys = ["k"] }]\n`;
  writeFileSync(join(dir, "providers.toml"), `[global]\nmain_port = 18200\nhost = "127.0.0.1"\n${routerTable()}\n${instances}\n[routing]\n${ROUTER_ROUTES}`);
  return dir;
}

async function explain(dir: string, args: string[], stdin?: string) {
  const proc = Bun.spawn([process.execPath, MAIN, "route", "explain", "-c", join(dir, "providers.toml"), ...args], {
    stdin: stdin === undefined ? "ignore" : new Blob([stdin]),
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1" },
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

test("a rule hit, from stdin: factors, categories, the rule's conditions, decision, route and target", async () => {
  const r = await explain(setup(), ["-"], JSON.stringify(body("auto", "go on", { history: 60 })));
  expect(r.code).toBe(0);
  const out = r.stdout;
  expect(out).toContain("router    on");
  expect(out).toMatch(/^ {2}messages_count +61$/m);
  expect(out).toContain("    500  architecture → opus4.6  no match");
  expect(out).toContain("    400  high_complexity → opus4.6  MATCH (match any)");
  expect(out).toContain("           ✓ messages_count >= 50  actual 61");
  expect(out).toContain('           ✗ prompt_chars >= "200000"  actual');
  expect(out).toContain("    350  struggling → opus4.6  not reached");
  expect(out).toContain("default   M2.5: not needed");
  expect(out).toContain("decision  rule_hit_high_complexity → opus4.6 (applied)");
  expect(out).toContain("route     opus4.6   x-gw-route: auto->opus4.6 (rule high_complexity)");
  expect(out).toContain("state     no gw running for this config: fresh state (no cooldowns, sticky sessions or streaks)");
  expect(out).toContain("target    strong/claude-opus-4-6 (weighted pick among the available targets of the highest priority)");
  expect(out).toMatch(/^targets\n {2}strong\/claude-opus-4-6 {2}w1 +← chosen$/m);
});

test("a category hit leaves the rules unreached; a model outside activation_models is left alone", async () => {
  const dir = setup();
  const file = join(dir, "b.json");
  writeFileSync(file, JSON.stringify(body("auto", "hi")));
  const hit = await explain(dir, [file]);
  expect(hit.stdout).toContain("    100  quick → M2.5  MATCH (task_category:quick)");
  expect(hit.stdout).toContain("    400  high_complexity → opus4.6  not reached");
  writeFileSync(file, JSON.stringify(body("sonnet4.6", "hi")));
  const plain = await explain(dir, [file]);
  expect(plain.stdout).toContain('router    leaves "sonnet4.6" alone (not an activation model)');
  expect(plain.stdout).toContain("route     sonnet4.6   x-gw-route: sonnet4.6");
});

test("a model or session that carries terminal escapes is shown escaped: it changes neither the title nor the colours", async () => {
  const hostile = "\u001b]0;pwned\u0007\u001b[32mGREEN\nfake line";
  const r = await explain(setup(), ["-", "--session", "\u001b[35mX"], JSON.stringify(body(hostile, "hi")));
  expect(r.code).toBe(0);
  expect(r.stdout).not.toContain("\u001b");
  expect(r.stdout).toContain("model     \\u001b]0;pwned\\u0007\\u001b[32mGREEN\\nfake line");
  expect(r.stdout).toContain("session   cc:\\u001b[35mX");
  expect(r.stdout.split("\n").filter((l) => l.startsWith("fake line"))).toEqual([]);
});

test("a body the LB would refuse is said so in one line", async () => {
  const r = await explain(setup(), ["-"], "{not json");
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("gw: the LB would refuse this body: 400");
});

test("nothing piped in (stdin empty, not a terminal): no request body, not the LB's verdict on an empty one", async () => {
  for (const args of [[], ["-"]]) {
    const r = await explain(setup(), args, "");
    expect([args, r.code, r.stderr]).toEqual([args, 1, "gw: no request body\n  gw route explain BODY.json (or MODEL), or pipe one in: … | gw route explain -\n"]);
  }
});

test("a body file is read whatever kind of file it is; a missing one or a folder is named", async () => {
  const dir = setup();
  // /dev/null is an empty body (Bun.file().exists() says false for devices): as the LB would, it
  // is refused for naming no model.
  const empty = await explain(dir, ["/dev/null"]);
  expect(empty.code).toBe(1);
  expect(empty.stderr).toContain("gw: the LB would refuse this body: 400");
  expect(empty.stderr).toContain("`model` is missing");
  const missing = await explain(dir, [join(dir, "nosuch.json")]);
  expect(missing.stderr).toContain("nosuch.json: no such file");
  const folder = await explain(dir, [dir]);
  expect(folder.stderr).toContain(`${dir}: is a directory`);
});

test("a model name instead of a file: a one-message request for it, said so on stderr, in the dialect --path speaks", async () => {
  const dir = setup();
  const plain = await explain(dir, ["sonnet4.6"]);
  expect(plain.code).toBe(0);
  expect(plain.stderr).toContain('gw: no file sonnet4.6: explaining a one-message request for model "sonnet4.6"');
  expect(plain.stdout).toContain("route     sonnet4.6   x-gw-route: sonnet4.6");
  // The router reads the user's text of a Responses body too: "hi" is its quick category.
  const auto = await explain(dir, ["auto", "--path", "/v1/responses"]);
  expect(auto.code).toBe(0);
  expect(auto.stdout).toContain("    100  quick → M2.5  MATCH (task_category:quick)");
  expect(auto.stdout).toContain("route     M2.5");
  // A missing path stays a missing file.
  const missing = await explain(dir, ["./sonnet4.6"]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain("./sonnet4.6: no such file");
});
