/** Control UI entry: defines the elements; index.html holds `<clawdbot-control-app>`. */
import "./app.js";
