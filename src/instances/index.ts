export { resolveCliproxy } from "../cliproxy/locate.ts";
export { keysFile, withInstanceKeys, withSavedInstanceKeys } from "./keys.ts";
export { writeInstanceFiles, instanceYamlPath } from "./write.ts";
export { instanceYaml, modelsFor } from "./yaml.ts";
