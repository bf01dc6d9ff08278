/** Registers every core method. One file per method family. */
import { MethodTable } from "../router.js";
import { registerHealthMethods } from "./health-methods.js";
import { registerLogsMethods } from "./logs-methods.js";
import { registerPresenceMethods } from "./presence-methods.js";
import { registerNodeMethods } from "./node-methods.js";
import { registerNodePairMethods } from "./node-pair-methods.js";
import { registerDeviceMethods } from "./device-methods.js";

/** The core table, plus `extra` (plugin) methods registered last. */
export function createMethodTable(extra?: (table: MethodTable) => void): MethodTable {
  const table = new MethodTable();
  registerHealthMethods(table);
  registerPresenceMethods(table);
  registerLogsMethods(table);
  registerNodeMethods(table);
  registerNodePairMethods(table);
  registerDeviceMethods(table);
  extra?.(table);
  return table;
}
