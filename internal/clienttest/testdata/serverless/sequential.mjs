// Many sequential HTTP queries through the driver, as a serverless function
// makes them: each one is its own request. Every thousandth request also
// reads how many client backends the compute has, so that TestServerless
// can tell a pool that holds a few connections from one that leaks them.
//
// Environment beyond lib.mjs: SEQ_N, the number of requests.
import { driver, url, run, done } from "./lib.mjs";

const n = Number(process.env.SEQ_N || 10_000);
const sql = driver.neon(url);

await run("sequential", async () => {
  let failed = 0;
  let firstError = null;
  const backends = [];
  const started = Date.now();
  for (let i = 1; i <= n; i++) {
    try {
      const [{ v }] = await sql`SELECT ${i}::int AS v`;
      if (v !== i) throw new Error(`request ${i} answered ${v}`);
      if (i % 1000 === 0) {
        const [{ c }] = await sql`SELECT count(*)::int AS c FROM pg_stat_activity WHERE backend_type = 'client backend'`;
        backends.push(c);
      }
    } catch (err) {
      failed++;
      firstError ??= `request ${i}: ${err.message}`;
      if (failed >= 100) break; // enough to report; the rest would say the same
    }
  }
  return { n, failed, firstError, backends, ms: Date.now() - started };
});

done();
