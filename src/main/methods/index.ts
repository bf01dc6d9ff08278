/** Registers every core method. One file per method family. */
import { MethodTable } from "../router.js";
import { registerHealthMethods } from "./health-methods.js";
import { registerLogsMethods } from "./logs-methods.js";
import { registerPresenceMethods } from "./presence-methods.js";

export function createMethodTable(): MethodTable {
  const table = new MethodTable();
  registerHealthMethods(table);
  registerPresenceMethods(table);
  registerLogsMethods(table);
  return table;
}
