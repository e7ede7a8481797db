// Drizzle ORM on the driver: drizzle-orm/neon-http over SQL over HTTP and
// drizzle-orm/neon-serverless over a WebSocket Pool. Mirrors the driver's
// tests/packages/drizzle/http.test.ts and ws.test.ts ("basic query using
// drizzle-orm with https fetch" / "with WebSockets"), plus a typed table.
import { driver, url, load, run, done } from "./lib.mjs";

const { neon, Pool } = driver;
const { sql, eq, asc } = await load("drizzle-orm");
const { pgTable, serial, text, integer, timestamp } = await load("drizzle-orm/pg-core");
const { drizzle: drizzleHttp } = await load("drizzle-orm/neon-http");
const { drizzle: drizzleWs } = await load("drizzle-orm/neon-serverless");

// Made by TestServerless beforehand.
const things = pgTable("sls_drizzle", {
  id: serial("id").primaryKey(),
  name: text("name").notNull(),
  qty: integer("qty").notNull(),
  created: timestamp("created", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

const series = (db) => db.select({ x: sql`generate_series`.mapWith(Number) }).from(sql`generate_series(1, 3)`);

const http = drizzleHttp({ client: neon(url) });
await run("neon-http/generate_series", () => series(http));
await run("neon-http/insert returning", async () =>
  (await http.insert(things).values([{ name: "a", qty: 1 }, { name: "b", qty: 2 }]).returning())
    .map(({ name, qty, created }) => ({ name, qty, created: created instanceof Date })));
await run("neon-http/select where", () =>
  http.select({ name: things.name, qty: things.qty }).from(things).where(eq(things.name, "b")));
await run("neon-http/update", async () =>
  (await http.update(things).set({ qty: 20 }).where(eq(things.name, "b")).returning({ qty: things.qty })));
await run("neon-http/batch", async () => {
  const [ins, all] = await http.batch([
    http.insert(things).values({ name: "c", qty: 3 }).returning({ name: things.name }),
    http.select({ name: things.name }).from(things).orderBy(asc(things.name)),
  ]);
  return { ins, all };
});

const pool = new Pool({ connectionString: url });
const ws = drizzleWs({ client: pool });
await run("neon-serverless/generate_series", () => series(ws));
await run("neon-serverless/transaction commits", async () => {
  await ws.transaction(async (tx) => {
    await tx.insert(things).values({ name: "ws", qty: 4 });
    await tx.update(things).set({ qty: 40 }).where(eq(things.name, "ws"));
  });
  return ws.select({ name: things.name, qty: things.qty }).from(things).where(eq(things.name, "ws"));
});
await run("neon-serverless/transaction rolls back", async () => {
  const err = await ws.transaction(async (tx) => {
    await tx.insert(things).values({ name: "gone", qty: 5 });
    tx.rollback();
  }).then(() => null, (e) => e.constructor.name);
  const rows = await ws.select({ name: things.name }).from(things).where(eq(things.name, "gone"));
  return { err, rows };
});
await run("neon-serverless/delete", async () =>
  (await ws.delete(things).returning({ name: things.name })).map((r) => r.name).sort());

await pool.end();
done();
