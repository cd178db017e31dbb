// Switchboard's browser SDK as named exports, for
//   import { connect, kustomer } from "https://switchboard.example.com/sdk/v1/switchboard.mjs";
// switchboard.js (beside this file) holds the code and defines
// globalThis.Switchboard; this module loads it and exports its members.
import "./switchboard.js";

const { connect, kustomer, SwitchboardError, version } = globalThis.Switchboard;

export { connect, kustomer, SwitchboardError, version };
