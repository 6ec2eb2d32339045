export { keysFile, withInstanceKeys, withSavedInstanceKeys } from "./keys.ts";
export { managedInstanceFiles, swapWithInstanceFiles, writeInstanceFiles } from "./write.ts";
export { instanceYaml } from "./yaml.ts";
