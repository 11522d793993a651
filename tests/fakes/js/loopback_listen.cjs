// Preload for servers that listen on every interface when given only a port
// (server-everything's streamableHttp calls app.listen(PORT)): with
// `node --require ./loopback_listen.cjs ...` a listen(port[, cb]) call binds
// 127.0.0.1 instead, so tests never expose a port beyond loopback.
"use strict";
const net = require("node:net");

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
    const port = args[0];
    const portOnly = typeof port === "number"
        || (typeof port === "string" && /^\d+$/.test(port));
    if (portOnly && (args.length === 1 || typeof args[1] === "function")) {
        args.splice(1, 0, "127.0.0.1");
    }
    return listen.apply(this, args);
};
