// Test-only: serve an in-memory WASM PostgreSQL 17 + TimescaleDB on 127.0.0.1 for the Timescale tests.
// Usage: node server.mjs [port]   (prints "READY <port>" once it accepts connections)
import { PGlite } from "@electric-sql/pglite";
import { timescaledb } from "@electric-sql/pglite/timescaledb";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

const port = Number(process.argv[2] ?? 55432);
const db = await PGlite.create({ extensions: { timescaledb } });
await db.exec("LOAD 'timescaledb'");
const server = new PGLiteSocketServer({ db, port, host: "127.0.0.1", maxConnections: 1 });
await server.start();
console.log(`READY ${port}`);
const stop = async () => {
  await server.stop();
  await db.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
