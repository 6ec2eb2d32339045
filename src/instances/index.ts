export { keysFile, withInstanceKeys, withSavedInstanceKeys } from "./keys.ts";
export { writeInstanceFiles, instanceYamlPath } from "./write.ts";
export { instanceYaml } from "./yaml.ts";
