// Loaded first (node --import ./guard.mjs): refuses every network connection
// that is not to the loopback interface, and reports each refused host, so a
// library that phones home (telemetry, tracing export, a default base URL)
// fails its scenario instead of leaving the machine.
import net from 'node:net';

const loopback = new Set(['127.0.0.1', '::1', 'localhost', '[::1]']);

if (!globalThis.__custosGuard) {
  const refused = [];
  globalThis.__custosGuard = { refused };
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function guardedConnect(...args) {
    const host = targetHost(args);
    if (host !== null && !loopback.has(host)) {
      refused.push(host);
      throw new Error(`network guard: refused a connection to ${host}`);
    }
    return connect.apply(this, args);
  };
  process.on('exit', () => {
    if (refused.length > 0) {
      process.stderr.write(`network guard: refused connections to ${[...new Set(refused)].join(', ')}\n`);
      process.exitCode = 3;
    }
  });
}

// targetHost is the host a Socket.connect call aims at; null for a local
// (Unix socket or pipe) connection.
function targetHost(args) {
  let first = args[0];
  if (Array.isArray(first)) first = first[0]; // net.connect's normalized arguments
  if (first && typeof first === 'object') {
    if (first.path) return null;
    return first.host ?? 'localhost';
  }
  if (typeof first === 'string' && isNaN(Number(first))) return null; // a path
  return typeof args[1] === 'string' ? args[1] : 'localhost';
}
