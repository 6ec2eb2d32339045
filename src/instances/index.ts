export { keysFile, withInstanceKeys, withSavedInstanceKeys } from "./keys.ts";
export { makeAuthDirsPrivate, managedInstanceFiles, swapWithInstanceFiles, writeInstanceFiles } from "./write.ts";
export { instanceYaml } from "./yaml.ts";
