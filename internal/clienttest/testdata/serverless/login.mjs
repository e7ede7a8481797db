// One login over each protocol with the connection string LOGIN_URL, for
// roles and passwords with characters a URL must escape.
import { driver, run, wsRows, done } from "./lib.mjs";

const u = process.env.LOGIN_URL;
const q = "SELECT current_user AS u";
await run("http", () => driver.neon(u).query(q));
await run("ws pipelined", () => wsRows(u, q));
await run("ws pipelineConnect=false", () => wsRows(u, q, [], { pipelineConnect: false }));
done();
