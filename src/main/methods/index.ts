/** Registers the core methods (one file per family); modules register their own. */
import type { MethodTable } from "../router.js";
import { registerHealthMethods } from "./health-methods.js";
import { registerLogsMethods } from "./logs-methods.js";
import { registerPresenceMethods } from "./presence-methods.js";
import { registerDeviceMethods } from "./device-methods.js";

export function registerCoreMethods(table: MethodTable): void {
  registerHealthMethods(table);
  registerPresenceMethods(table);
  registerLogsMethods(table);
  registerDeviceMethods(table);
}
