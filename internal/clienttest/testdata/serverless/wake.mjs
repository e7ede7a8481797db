// One query on a suspended endpoint, over the protocol WAKE_MODE names
// ("http" or "ws"): grove wakes the compute as its TCP proxy does.
import { driver, url, run, wsRows, done } from "./lib.mjs";

const mode = process.env.WAKE_MODE;
await run(`wake/${mode}`, async () => {
  if (mode === "http") return driver.neon(url)`SELECT current_user AS u`;
  return wsRows(url, "SELECT current_user AS u");
});
done();
