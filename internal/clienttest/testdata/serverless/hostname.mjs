// The endpoint named by the host, as in Neon's connection strings
// (ep-….region.aws.neon.tech), rather than by options: grove takes the
// first label of a name under "localhost" without a domain configured.
// Over HTTP the host travels in the Neon-Connection-String header; over a
// WebSocket it is the Host header of the upgrade, as Neon's proxy reads it.
//
// Environment beyond lib.mjs: HOST_URL, a connection string whose host is
// <endpoint>.localhost and which has no options parameter.
import { driver, neonConfig, WebSocket, httpAddr, run, wsRows, done } from "./lib.mjs";

const { neon, Pool } = driver;
const hostURL = process.env.HOST_URL;
const httpPort = httpAddr.split(":").pop();

// A WebSocket to <name>.localhost:<grove's HTTP port>, which the resolver
// does not know: connect to the loopback address, keep the name as Host.
const loopback = (host, opts, cb) =>
  opts?.all ? cb(null, [{ address: "127.0.0.1", family: 4 }]) : cb(null, "127.0.0.1", 4);
class LocalhostWebSocket extends WebSocket {
  constructor(address, protocols) {
    super(address, protocols, { lookup: loopback });
  }
}
const byHost = { wsProxy: (host) => `${host}:${httpPort}/v2`, webSocketConstructor: LocalhostWebSocket };

const wsQuery = (opts) => wsRows(hostURL, "SELECT current_user AS u, $1::int AS one", [1], { ...byHost, ...opts });

await run("http/endpoint from the host name", () => neon(hostURL)`SELECT current_user AS u, ${1}::int AS one`);
await run("http/transaction", () => neon(hostURL).transaction((txn) => [txn`SELECT current_user AS u`]));
// tests/cli/ws.test.ts "pool.query() with poolQueryViaFetch": the driver
// rebuilds the URL from user, password, host and database, which is enough
// when the host names the endpoint.
await run("pool.query with poolQueryViaFetch", async () => {
  const pool = new Pool({ connectionString: hostURL });
  neonConfig.poolQueryViaFetch = true;
  try {
    const r = await pool.query("SELECT current_user AS u, $1::int AS one", [1]);
    return { rows: r.rows, viaNeonFetch: r.viaNeonFetch ?? null };
  } finally {
    neonConfig.poolQueryViaFetch = false;
    await pool.end();
  }
});
await run("ws/endpoint from the Host header", () => wsQuery({}));
await run("ws/endpoint from the Host header, pipelineConnect=false", () => wsQuery({ pipelineConnect: false }));

done();
