// The raw Postgres protocol over a WebSocket, as the driver's Pool and
// Client speak it: the pipelined cleartext start-up (the default), the
// start-up that waits for the server's request (pipelineConnect: false),
// with and without coalesced writes, sessions, transactions and
// LISTEN/NOTIFY. Mirrors tests/cli/ws.test.ts where a case names it.
import { driver, neonConfig, url, run, fail, done } from "./lib.mjs";

const { neon, Pool, Client } = driver;
const sql = neon(url);

const authMessages = ["authenticationCleartextPassword", "authenticationMD5Password", "authenticationSASL",
  "authenticationSASLContinue", "authenticationSASLFinal", "authenticationOk"];

// connect connects a Client with the given per-client options and records
// the authentication messages the server sent, in order.
async function connect(opts = {}) {
  const client = new Client(url);
  Object.assign(client.neonConfig, opts);
  const auth = [];
  const connecting = client.connect();
  // After connect(): the pipelined start-up replaces the listeners it finds.
  for (const m of authMessages) client.connection.on(m, () => auth.push(m));
  await connecting;
  return { client, auth };
}

function within(ms, promise, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// tests/cli/ws.test.ts "pool.query() over WebSockets"
const pool = new Pool({ connectionString: url });
await run("pool.query", async () => {
  const r = await pool.query("SELECT $1::int AS one", [1]);
  return { rows: r.rows, viaNeonFetch: r.viaNeonFetch ?? null };
});
// tests/cli/ws.test.ts "pool.query() with poolQueryViaFetch". The driver
// rebuilds the connection string from user, password, host and database
// alone, so without a domain (the endpoint in the host name) the request
// names no endpoint: Neon's proxy answers an IP host "missing hostname".
await run("pool.query with poolQueryViaFetch (no domain)", async () => {
  neonConfig.poolQueryViaFetch = true;
  try {
    return await fail(() => pool.query("SELECT $1::int AS one", [1]));
  } finally {
    neonConfig.poolQueryViaFetch = false;
  }
});
await run("pool.connect", async () => {
  const c = await pool.connect();
  try {
    return (await c.query("SELECT current_user AS u, current_database() AS db")).rows;
  } finally {
    c.release();
  }
});
await run("pool/concurrent queries share at most max connections", async () => {
  const small = new Pool({ connectionString: url, max: 3 });
  try {
    const pids = await Promise.all(
      Array.from({ length: 9 }, () => small.query("SELECT pg_backend_pid() AS pid, pg_sleep(0.05)")));
    return { queries: pids.length, backends: new Set(pids.map((r) => r.rows[0].pid)).size };
  } finally {
    await small.end();
  }
});
await run("pool/pipelineConnect=false", async () => {
  const saved = neonConfig.pipelineConnect;
  neonConfig.pipelineConnect = false;
  const p = new Pool({ connectionString: url });
  try {
    return (await p.query("SELECT $1::int AS one", [1])).rows;
  } finally {
    neonConfig.pipelineConnect = saved;
    await p.end();
  }
});

// tests/cli/ws.test.ts "client.query()" and "client.query() with pipelined
// connect (yes, no) x coalesced writes (yes, no)"
for (const pipelineConnect of ["password", false]) {
  for (const coalesceWrites of [true, false]) {
    await run(`client/pipelineConnect=${pipelineConnect},coalesceWrites=${coalesceWrites}`, async () => {
      const { client, auth } = await connect({ pipelineConnect, coalesceWrites });
      try {
        const r = await client.query("SELECT $1::int AS one, current_user AS u", [1]);
        return { rows: r.rows, viaNeonFetch: r.viaNeonFetch ?? null, auth };
      } finally {
        await client.end();
      }
    });
  }
}

// One Client is one Postgres session: its settings, temporary tables and
// prepared statements last as long as it does.
await run("client/session", async () => {
  const { client } = await connect();
  try {
    await client.query("SET application_name = 'sls-session'");
    await client.query("CREATE TEMP TABLE sls_temp AS SELECT 42 AS v");
    const a = await client.query({ name: "sls_stmt", text: "SELECT v + $1::int AS v FROM sls_temp", values: [1] });
    const b = await client.query({ name: "sls_stmt", text: "SELECT v + $1::int AS v FROM sls_temp", values: [2] });
    const s = await client.query("SHOW application_name");
    return { prepared: [a.rows[0].v, b.rows[0].v], application_name: s.rows[0].application_name };
  } finally {
    await client.end();
  }
});
// The start-up packet's parameters reach Postgres: node-postgres sends
// the driver's name as fallback_application_name.
await run("client/application_name", async () => {
  const { client } = await connect();
  try {
    return (await client.query("SHOW application_name")).rows;
  } finally {
    await client.end();
  }
});
await run("client/transaction", async () => {
  const { client } = await connect();
  try {
    await client.query("BEGIN ISOLATION LEVEL SERIALIZABLE");
    await client.query("INSERT INTO sls_items (name) VALUES ('ws rolled back')");
    const inside = (await client.query("SELECT count(*)::int AS n FROM sls_items WHERE name = 'ws rolled back'")).rows[0].n;
    const iso = (await client.query("SHOW transaction_isolation")).rows[0].transaction_isolation;
    await client.query("ROLLBACK");
    await client.query("BEGIN");
    await client.query("INSERT INTO sls_items (name) VALUES ('ws committed')");
    await client.query("COMMIT");
    const after = await client.query(
      "SELECT count(*) FILTER (WHERE name = 'ws rolled back')::int AS rolled_back, count(*) FILTER (WHERE name = 'ws committed')::int AS committed FROM sls_items");
    return { inside, isolation: iso, ...after.rows[0] };
  } finally {
    await client.end();
  }
});
await run("client/error then next query", async () => {
  const { client } = await connect();
  try {
    const err = await fail(() => client.query("SELECT 1/0"));
    const r = await client.query("SELECT 2 AS two");
    return { code: err.code, next: r.rows };
  } finally {
    await client.end();
  }
});
// node-postgres's cancel: a second connection (another WebSocket) sends
// the CancelRequest with the key the first one was given.
await run("client/cancel a running query", async () => {
  const { client } = await connect();
  try {
    const started = Date.now();
    const running = client.query("SELECT pg_sleep(10)");
    await new Promise((r) => setTimeout(r, 300));
    new Client(url).cancel(client, client.activeQuery);
    const err = await fail(() => running);
    const next = await client.query("SELECT 'after cancel' AS v");
    return { code: err.code, message: err.message, fast: Date.now() - started < 5000, next: next.rows };
  } finally {
    await client.end();
  }
});
await run("client/many rows", async () => {
  const { client } = await connect();
  try {
    const r = await client.query("SELECT g, md5(g::text) AS h FROM generate_series(1, 100000) AS g");
    return { rows: r.rowCount, last: r.rows.at(-1).g };
  } finally {
    await client.end();
  }
});
await run("client/large parameter", async () => {
  const { client } = await connect();
  try {
    const big = "y".repeat(4 * 1024 * 1024);
    const r = await client.query("SELECT length($1::text) AS n, md5($1::text) = md5(repeat('y', 4194304)) AS same", [big]);
    return r.rows;
  } finally {
    await client.end();
  }
});
// LISTEN/NOTIFY over a WebSocket Client, notified from HTTP and from
// another WebSocket session.
await run("listen/notify from an HTTP query", async () => {
  const { client } = await connect();
  try {
    await client.query("LISTEN sls_chan");
    const got = new Promise((resolve) =>
      client.once("notification", (n) => resolve({ channel: n.channel, payload: n.payload })));
    await sql`SELECT pg_notify('sls_chan', 'over http')`;
    return await within(10_000, got, "notification");
  } finally {
    await client.end();
  }
});
await run("listen/notify from another WebSocket", async () => {
  const { client: listener } = await connect();
  const { client: notifier } = await connect({ pipelineConnect: false });
  try {
    await listener.query('LISTEN "sls chan 2"');
    const got = [];
    const two = new Promise((resolve) =>
      listener.on("notification", (n) => {
        got.push({ channel: n.channel, payload: n.payload });
        if (got.length === 2) resolve(got);
      }));
    await notifier.query(`NOTIFY "sls chan 2", 'first'`);
    await notifier.query("BEGIN");
    await notifier.query(`NOTIFY "sls chan 2", 'second'`);
    await notifier.query("COMMIT");
    return await within(10_000, two, "two notifications");
  } finally {
    await listener.end();
    await notifier.end();
  }
});
await run("listen/unlisten stops notifications", async () => {
  const { client } = await connect();
  try {
    const got = [];
    client.on("notification", (n) => got.push(n.payload));
    await client.query("LISTEN sls_chan3");
    await sql`SELECT pg_notify('sls_chan3', 'heard')`;
    await within(10_000, new Promise((resolve) => {
      const poll = setInterval(() => got.length && (clearInterval(poll), resolve()), 10);
    }), "notification");
    await client.query("UNLISTEN sls_chan3");
    await sql`SELECT pg_notify('sls_chan3', 'not heard')`;
    await client.query("SELECT pg_sleep(0.2)"); // a round trip for anything in flight
    return got;
  } finally {
    await client.end();
  }
});

await pool.end();
done();
