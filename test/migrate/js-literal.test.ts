// ecosystem.config.js is read as data, never run: literals come out as values, anything else as
// Unread with its source — whatever the file tries.
import { expect, test } from "bun:test";
import { readExports, Unread } from "../../src/migrate/js-literal.ts";

test("literals: objects, arrays, strings in three quotes, numbers, booleans, null; comments and trailing commas", () => {
  const v = readExports(`/* header */
module.exports = {
  apps: [
    { name: 'a', "quoted-key": "x\\ty", tpl: \`plain\`, n: -3.5, hex: 0x1F, ok: true, no: false, z: null, u: undefined, }, // trailing
    [1, 2, ],
  ],
};`);
  expect(v).toEqual({ apps: [{ name: "a", "quoted-key": "x\ty", tpl: "plain", n: -3.5, hex: 31, ok: true, no: false, z: null, u: undefined }, [1, 2]] });
});

test("expressions stay unread: calls, variables, templates with \${}, concatenation; spreads are skipped", () => {
  const v = readExports(`const dir = __dirname;
module.exports = { a: path.join(dir, "x"), b: \`\${dir}/y\`, c: "p" + dir, d: require('child_process').execSync('touch PWNED'), ...other, dir, e: { f: 1 }.f, g: 2 };`) as Record<string, unknown>;
  expect(v.a).toEqual(new Unread('path.join(dir, "x")'));
  expect(v.b).toEqual(new Unread("`${dir}/y`"));
  expect(v.c).toEqual(new Unread('"p" + dir'));
  expect(v.d).toBeInstanceOf(Unread);
  expect(v.e).toEqual(new Unread("{ f: 1 }.f"));
  expect(v.g).toBe(2);
  expect(v.dir).toEqual(new Unread("__dirname")); // the shorthand's variable, whose value is no literal
  expect(Object.keys(v)).toEqual(["a", "b", "c", "d", "dir", "e", "g"]);
});

test("a variable the file declares once with a literal is read where it is used: { apps }, module.exports = config", () => {
  expect(readExports(`const apps = [{ name: "lb", script: "lb.js" }];\nmodule.exports = { apps };`)).toEqual({ apps: [{ name: "lb", script: "lb.js" }] });
  expect(readExports(`const config = { apps: [{ name: "a" }] }\nmodule.exports = config`)).toEqual({ apps: [{ name: "a" }] });
  expect(readExports(`var one = { name: "a" }; let apps = [one]; module.exports = { apps: apps };`)).toEqual({ apps: [{ name: "a" }] });
});

test("a variable changed after its declaration, declared twice, or in a cycle stays unread", () => {
  expect(readExports(`const apps = [];\napps.push({ name: "x" });\nmodule.exports = { apps };`)).toEqual({ apps: new Unread("apps") });
  expect(readExports(`let apps = [];\napps = load();\nmodule.exports = { apps };`)).toEqual({ apps: new Unread("apps") });
  expect(readExports(`let apps = []; if (x) { let apps = [1]; }\nmodule.exports = { apps };`)).toEqual({ apps: new Unread("apps") });
  expect(readExports(`const a = { b }; const b = { a }; module.exports = a;`)).toEqual({ b: { a: new Unread("a") } });
});

test("identifiers that are prototype keys are no keywords: they stay unread", () => {
  const v = readExports(`module.exports = { a: constructor, b: toString, c: hasOwnProperty, d: true };`) as Record<string, unknown>;
  expect(v.a).toEqual(new Unread("constructor"));
  expect(v.b).toEqual(new Unread("toString"));
  expect(v.c).toEqual(new Unread("hasOwnProperty"));
  expect(v.d).toBe(true);
});

test("export default works; no export, or __proto__, gives nothing dangerous", () => {
  expect(readExports(`export default { apps: [] }`)).toEqual({ apps: [] });
  expect(readExports(`const x = 1;`)).toBeUndefined();
  const v = readExports(`module.exports = { "__proto__": { polluted: true }, __proto__: 1 }`) as Record<string, unknown>;
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.keys(v)).toEqual([]);
});

test("a cut-off file ends what it has", () => {
  expect(readExports(`module.exports = { apps: [ { name: "a", args: "-config x.yaml"`)).toEqual({ apps: [{ name: "a", args: "-config x.yaml" }] });
});

test("nesting deeper than any ecosystem file: unread below the limit, never a stack overflow", () => {
  const deep = `module.exports = { apps: [ { name: "a", x: ${"[".repeat(100_000)}${"]".repeat(100_000)} }, { name: "b" } ] }`;
  const v = readExports(deep) as { apps: Record<string, unknown>[] };
  expect(v.apps.map((a) => a.name)).toEqual(["a", "b"]);
  let x = v.apps[0]!.x;
  while (Array.isArray(x)) x = x[0];
  expect(x).toBeInstanceOf(Unread);
  expect(() => readExports(`module.exports = ${"{a:".repeat(100_000)}`)).not.toThrow();
});

test("module.exports written inside a string is not the export", () => {
  const v = readExports(`const banner = "module.exports = { apps: [{ name: 'prod-db', script: 'lb.js' }] }";\nmodule.exports = { apps: [{ name: "lb" }] };`);
  expect(v).toEqual({ apps: [{ name: "lb" }] });
});

test("module.exports.KEY = value (PM2's other form, any spacing) builds the object; one inside a string or a comparison does not", () => {
  expect(readExports(`module.exports.apps = [{ name: "lb" }];`)).toEqual({ apps: [{ name: "lb" }] });
  expect(readExports(`module.exports.apps=[{ name: "a" }]\nmodule.exports . deploy =\n  { prod: { user: "u" } }\nmodule.exports.apps = [{ name: "b" }];`)).toEqual({ apps: [{ name: "b" }], deploy: { prod: { user: "u" } } });
  expect(readExports(`const banner = "module.exports.apps = [{ name: 'prod-db' }]";\n// module.exports.apps = [{ name: 'old' }]\nif (module.exports.apps == null) {}`)).toBeUndefined();
  const v = readExports(`module.exports.apps = require('child_process').execSync('touch PWNED');\nmodule.exports.__proto__ = { polluted: true };`) as Record<string, unknown>;
  expect(v.apps).toBeInstanceOf(Unread);
  expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
  expect(readExports(`module.exports = { apps: [], x: 1 };\nmodule.exports.apps = [{ name: "x" }];`)).toEqual({ apps: [{ name: "x" }], x: 1 }); // in order, as when run
  expect(readExports(`module.exports.apps = [{ name: "x" }];\nmodule.exports = { apps: [] };`)).toEqual({ apps: [] });
});
