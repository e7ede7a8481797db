// Drives Grove's Data API with @supabase/postgrest-js as an app does: reads
// with columns, renames, casts, JSON paths and embedding, every filter and
// modifier, writes, functions, errors, row-level security for two signed-in
// users and a second exposed schema. Each case prints the client's answer
// ({status, count, data, error}) for TestPostgrestJS to check.
//
// Environment: REST_URL (the Data API's URL), TOKEN_ANN and TOKEN_BOB (JWTs
// of two signed-in users), besides what ../serverless/lib.mjs reads.
import { load, run, done } from "../serverless/lib.mjs";

const { PostgrestClient } = await load("@supabase/postgrest-js");

const url = process.env.REST_URL;
// Retries of a 503 would hide a failing case for seconds; the client's
// defaults are otherwise kept.
const anon = new PostgrestClient(url, { retry: false });
const client = (token) => new PostgrestClient(url, { headers: { Authorization: `Bearer ${token}` }, retry: false });
const ann = client(process.env.TOKEN_ANN);
const bob = client(process.env.TOKEN_BOB);

// out keeps what an app reads from a response.
const out = (r) => ({ status: r.status, count: r.count, data: r.data, error: r.error });
const c = (name, fn) => run(name, async () => out(await fn()));

// Columns, renames, casts, JSON paths.
await c("select_all", () => anon.from("items").select().order("id"));
await c("select_columns", () => anon.from("users").select("id, name").order("id"));
await c("select_rename", () => anon.from("users").select("who:name, years:age").eq("id", 1));
await c("select_cast", () => anon.from("orders").select("id::text, total::text, slot").order("id").limit(2));
await c("select_json_path", () =>
  anon.from("users").select("id, city:profile->>city, langs:profile->langs, first:profile->langs->>0, zip:profile->address->>zip").order("id"));
await c("select_json_filter", () => anon.from("users").select("name").eq("profile->>city", "Paris").order("id"));
await c("select_view", () => anon.from("user_totals").select("name, n_orders, spent").gt("n_orders", 0).order("spent", { ascending: false }));

// Embedding.
await c("embed_many_to_one", () => anon.from("orders").select("id, buyer:users!user_id(name)").order("id"));
await c("embed_fk_hint", () => anon.from("orders").select("id, users!orders_referrer_id_fkey(name)").order("id"));
await c("embed_ambiguous", () => anon.from("orders").select("id, users(name)"));
await c("embed_one_to_many", () => anon.from("users").select("name, orders!user_id(id, status)").order("id").order("id", { referencedTable: "orders" }));
await c("embed_many_to_many", () => anon.from("items").select("name, tags(name)").order("id").order("name", { referencedTable: "tags" }));
await c("embed_junction_columns", () =>
  anon.from("orders").select("id, order_items(qty, items(name))").eq("id", 3).order("item_id", { referencedTable: "order_items" }));
await c("embed_nested", () =>
  anon.from("users").select("name, orders!user_id(id, items(name))").eq("id", 1).order("id", { referencedTable: "orders" }).order("id", { referencedTable: "orders.items" }));
await c("embed_inner", () => anon.from("users").select("name, orders!user_id!inner(status)").eq("orders.status", "paid").order("id"));
await c("embed_filter", () => anon.from("users").select("name, orders!user_id(id)").eq("orders.status", "paid").order("id"));
await c("embed_limit", () => anon.from("users").select("name, orders!user_id(id)").in("id", [1, 2]).order("id").order("id", { referencedTable: "orders", ascending: false }).limit(1, { referencedTable: "orders" }));
await c("embed_order_foreign_table", () => anon.from("users").select("name, orders!user_id(id)").eq("id", 1).order("total", { foreignTable: "orders" }));
await c("embed_or", () => anon.from("users").select("name, orders!user_id(id)").eq("id", 1).or("status.eq.new,total.gt.20", { referencedTable: "orders" }).order("id", { referencedTable: "orders" }));
await c("embed_spread", () => anon.from("orders").select("id, ...users!user_id(buyer:name)").order("id").limit(2));
await c("embed_is_null", () => anon.from("users").select("name, orders!user_id(id)").is("orders", null));
await c("embed_order_related", () => anon.from("orders").select("id, buyer:users!user_id(name)").order("buyer(name)", { ascending: false }).order("id"));
await c("embed_count", () => anon.from("users").select("name, orders!user_id(count)").order("id"));

// Filters.
const names = (build) => c(build.name, () => build.q(anon.from("users").select("name")).order("id"));
for (const build of [
  { name: "filter_eq", q: (q) => q.eq("name", "Bob") },
  { name: "filter_neq", q: (q) => q.neq("name", "Bob") },
  { name: "filter_gt", q: (q) => q.gt("age", 30) },
  { name: "filter_gte", q: (q) => q.gte("age", 31) },
  { name: "filter_lt", q: (q) => q.lt("age", 31) },
  { name: "filter_lte", q: (q) => q.lte("age", 31) },
  { name: "filter_like", q: (q) => q.like("name", "%e%") },
  { name: "filter_like_star", q: (q) => q.like("email", "*@x.com") },
  { name: "filter_ilike", q: (q) => q.ilike("email", "%@X.COM") },
  { name: "filter_like_any_of", q: (q) => q.likeAnyOf("name", ["A%", "%e"]) },
  { name: "filter_ilike_all_of", q: (q) => q.ilikeAllOf("name", ["%D%", "%E"]) },
  { name: "filter_regex_match", q: (q) => q.regexMatch("name", "^[AB]") },
  { name: "filter_regex_imatch", q: (q) => q.regexIMatch("name", "^[ab]") },
  { name: "filter_is_null", q: (q) => q.is("email", null) },
  { name: "filter_is_true", q: (q) => q.is("active", true) },
  { name: "filter_is_distinct", q: (q) => q.isDistinct("age", 25) },
  { name: "filter_in", q: (q) => q.in("id", [1, 3]) },
  { name: "filter_in_reserved", q: (q) => q.in("name", ["Ann", "Bob, Jr", "x(y)"]) },
  { name: "filter_not_in", q: (q) => q.notIn("id", [1, 3]) },
  { name: "filter_contains_array", q: (q) => q.contains("tags", ["admin"]) },
  { name: "filter_contains_json", q: (q) => q.contains("profile", { city: "Paris" }) },
  { name: "filter_contained_by", q: (q) => q.containedBy("tags", ["admin", "dev"]) },
  { name: "filter_overlaps", q: (q) => q.overlaps("tags", ["ops", "nobody"]) },
  { name: "filter_fts", q: (q) => q.textSearch("search", "cats") },
  { name: "filter_fts_config", q: (q) => q.textSearch("bio", "cat & hike", { config: "english" }) },
  { name: "filter_plfts", q: (q) => q.textSearch("search", "cats hiking", { type: "plain" }) },
  { name: "filter_phfts", q: (q) => q.textSearch("search", "enjoys cycling", { type: "phrase", config: "english" }) },
  { name: "filter_wfts", q: (q) => q.textSearch("search", "cats -cycling", { type: "websearch" }) },
  { name: "filter_match", q: (q) => q.match({ age: 31, name: "Ann" }) },
  { name: "filter_not", q: (q) => q.not("email", "is", null) },
  { name: "filter_not_in_list", q: (q) => q.not("id", "in", "(1,2)") },
  { name: "filter_or", q: (q) => q.or("age.lt.30,email.is.null") },
  { name: "filter_or_and", q: (q) => q.or("and(age.gt.30,age.lt.40),name.eq.Bob") },
  { name: "filter_not_or", q: (q) => q.not("age", "gt", 30).not("age", "is", null) },
  { name: "filter_filter", q: (q) => q.filter("age", "gte", 31) },
  { name: "filter_filter_in", q: (q) => q.filter("name", "in", '("Ann","Dee")') },
  { name: "filter_date", q: (q) => q.gte("born", "1990-01-01") },
]) {
  await names(build);
}
const slots = (name, q) => c(name, () => q(anon.from("orders").select("id")).order("id"));
await slots("filter_range_gt", (q) => q.rangeGt("slot", "[1,5)"));
await slots("filter_range_gte", (q) => q.rangeGte("slot", "[5,6)"));
await slots("filter_range_lt", (q) => q.rangeLt("slot", "[10,11)"));
await slots("filter_range_lte", (q) => q.rangeLte("slot", "[1,10)"));
await slots("filter_range_adjacent", (q) => q.rangeAdjacent("slot", "[10,12)"));
await slots("filter_range_overlaps", (q) => q.overlaps("slot", "[3,6)"));
await slots("filter_timestamptz", (q) => q.gt("placed_at", "2024-02-01T09:00:00+00:00"));
await slots("filter_numeric", (q) => q.gte("total", 25.5));

// Order, limit, range.
await c("order_nulls_first", () => anon.from("users").select("name, age").order("age", { ascending: false, nullsFirst: true }));
await c("order_nulls_last", () => anon.from("users").select("name, age").order("age", { nullsFirst: false }));
await c("order_two_columns", () => anon.from("orders").select("id").order("status").order("total", { ascending: false }));
await c("order_json_path", () => anon.from("users").select("name").not("profile", "is", null).order("profile->>city").order("id", { ascending: false }));
await c("limit", () => anon.from("items").select("id").order("id").limit(2));
await c("range", () => anon.from("items").select("id").order("id").range(1, 2));
await c("range_count", () => anon.from("items").select("id", { count: "exact" }).order("id").range(1, 2));
await c("range_past_end", () => anon.from("items").select("id", { count: "exact" }).order("id").range(10, 12));

// Single rows, CSV, counts.
await c("single", () => anon.from("users").select("name").eq("id", 2).single());
await c("single_none", () => anon.from("users").select("name").eq("id", 99).single());
await c("single_many", () => anon.from("users").select("name").single());
await c("maybe_single_none", () => anon.from("users").select("name").eq("id", 99).maybeSingle());
await c("maybe_single_one", () => anon.from("users").select("name").eq("id", 3).maybeSingle());
await c("maybe_single_many", () => anon.from("users").select("name").maybeSingle());
await c("strip_nulls", () => anon.from("users").select("name, email, age").in("id", [2, 3]).order("id").stripNulls());
await c("strip_nulls_single", () => anon.from("users").select("name, email").eq("id", 3).single().stripNulls());
await c("csv", () => anon.from("items").select("id, name, price, stock").order("id").csv());
await c("count_exact", () => anon.from("users").select("name", { count: "exact" }).lt("id", 3).order("id"));
await c("count_head", () => anon.from("users").select("*", { count: "exact", head: true }));
await c("count_head_filtered", () => anon.from("orders").select("*", { count: "exact", head: true }).eq("status", "paid"));
// A planned count is the planner's estimate: any positive number.
await c("count_planned_head", () =>
  anon.from("users").select("*", { count: "planned", head: true }).then((r) => ({ ...r, count: typeof r.count === "number" && r.count > 0 })));
await c("count_estimated", () => anon.from("users").select("id", { count: "estimated" }).order("id").limit(1));

// Writes, as a signed-in user.
await c("insert_minimal", () => ann.from("tags").insert({ id: 10, name: "garden" }));
await c("insert_select", () => ann.from("tags").insert({ id: 11, name: "kitchen" }).select());
await c("insert_single", () => ann.from("tags").insert({ id: 12, name: "tools" }).select("name").single());
await c("insert_bulk", () => ann.from("items").insert([{ id: 10, name: "Cup" }, { id: 11, name: "Bowl", stock: 5 }]).select("id, name, stock"));
await c("insert_default_to_null_false", () =>
  ann.from("items").insert([{ id: 12, name: "Plate" }, { id: 13, name: "Fork", stock: 7 }], { defaultToNull: false }).select("id, name, stock"));
await c("insert_count", () => ann.from("tags").insert([{ id: 13, name: "a" }, { id: 14, name: "b" }], { count: "exact" }));
await c("insert_unique_violation", () => ann.from("tags").insert({ id: 1, name: "dup" }));
await c("insert_not_null_violation", () => ann.from("items").insert({ id: 20 }));
await c("insert_fk_violation", () => ann.from("item_tags").insert({ item_id: 1, tag_id: 999 }));
await c("insert_anonymous", () => anon.from("tags").insert({ id: 15, name: "nope" }));
await c("upsert_merge", () => ann.from("items").upsert({ id: 1, name: "Pen", price: 2 }).select("id, name, price, stock"));
await c("upsert_on_conflict", () =>
  ann.from("items").upsert([{ id: 2, name: "Notebook", price: 5, stock: 25 }, { id: 15, name: "Ruler", price: 1, stock: 3 }], { onConflict: "name" })
    .select("id, name, price, stock").order("id"));
await c("upsert_ignore_duplicates", () =>
  ann.from("tags").upsert([{ id: 1, name: "ignored" }, { id: 16, name: "fresh" }], { ignoreDuplicates: true }).select());
await c("upsert_bulk_default_to_null_false", () =>
  ann.from("items").upsert([{ id: 12, name: "Plate", price: 3 }, { id: 14, name: "Knife" }], { defaultToNull: false }).select("id, name, price, stock").order("id"));
await c("update", () => ann.from("orders").update({ status: "shipped" }).eq("id", 2).select("id, status"));
await c("update_count", () => ann.from("items").update({ stock: 1 }, { count: "exact" }).in("id", [10, 11]));
await c("max_affected_exceeded", () => ann.from("items").update({ stock: 2 }).in("id", [10, 11]).maxAffected(1).select("id"));
await c("max_affected_unchanged", () => anon.from("items").select("id, stock").in("id", [10, 11]).order("id"));
await c("max_affected_within", () => ann.from("items").update({ stock: 3 }).in("id", [10, 11]).maxAffected(2).select("stock"));
await c("update_none", () => ann.from("orders").update({ status: "x" }).eq("id", 999).select());
await c("update_single", () => ann.from("items").update({ price: 9.5 }).eq("id", 4).select("name, price").single());
await c("delete", () => ann.from("tags").delete().eq("id", 14).select());
await c("delete_count", () => ann.from("tags").delete({ count: "exact" }).in("id", [10, 11, 12, 13]));
await c("after_writes", () => anon.from("tags").select("id, name").order("id"));

// Functions.
await c("rpc_scalar_post", () => anon.rpc("add_them", { a: 2, b: 3 }));
await c("rpc_scalar_get", () => anon.rpc("add_them", { a: 20, b: 22 }, { get: true }));
await c("rpc_setof", () => anon.rpc("users_older_than", { min_age: 26 }).select("name, age").order("age"));
await c("rpc_setof_filtered_get", () => anon.rpc("users_older_than", { min_age: 20 }, { get: true }).select("name").lt("age", 40).order("name"));
await c("rpc_setof_count", () => anon.rpc("users_older_than", { min_age: 0 }, { count: "exact" }).select("id").order("id").limit(1));
await c("rpc_head", () => anon.rpc("users_older_than", { min_age: 0 }, { head: true, count: "exact" }));
await c("rpc_single", () => anon.rpc("users_older_than", { min_age: 40 }).select("name").single());
await c("rpc_array_arg", () => anon.rpc("sum_array", { xs: [1, 2, 3] }, { get: true }));
await c("rpc_json_arg", () => anon.rpc("echo_json", { doc: { a: [1, { b: null }] } }));
await c("rpc_table_returning", () => anon.rpc("item_names").order("name", { ascending: false }).limit(2));
await c("rpc_whoami", () => ann.rpc("whoami"));
await c("rpc_whoami_anonymous", () => anon.rpc("whoami"));
await c("rpc_missing", () => anon.rpc("nope", { x: 1 }));
await c("rpc_raise", () => anon.rpc("raise_it"));

// Cancellation.
await run("abort_before", async () => {
  const ac = new AbortController();
  ac.abort();
  const r = await anon.from("users").select().abortSignal(ac.signal);
  return { status: r.status, data: r.data, code: r.error?.code, message: r.error?.message, hint: r.error?.hint };
});
await run("abort_in_flight", async () => {
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 300);
  const started = Date.now();
  const r = await anon.rpc("slow").abortSignal(ac.signal);
  return { status: r.status, data: r.data, code: r.error?.code, message: r.error?.message, fast: Date.now() - started < 2500 };
});
await c("after_abort", () => anon.rpc("add_them", { a: 1, b: 1 }));

// Errors.
await c("error_missing_table", () => anon.from("nope").select());
await c("error_missing_table_near", () => anon.from("itemz").select());
await c("error_missing_column", () => anon.from("users").select("nope"));
// PostgREST takes a parameter for a filter only when its value starts with
// a known operator; the others it leaves to functions and ignores here.
await c("filter_unknown_operator", () => anon.from("users").select("id").filter("age", "gtx", 3).order("id"));
await c("error_unknown_operator_embedded", () => anon.from("users").select("name, orders!user_id(id)").filter("orders.status", "noop", "x"));
await c("error_bad_operator", () => anon.from("users").select().not("age", "gtx", 3));
await c("error_bad_in", () => anon.from("users").select().filter("age", "in", "1,2"));
await c("error_bad_or", () => anon.from("users").select().or("age.eq.1,nope"));
await c("error_bad_value", () => anon.from("users").select().eq("age", "old"));
await c("error_bad_order", () => anon.from("users").select().order("age.sideways"));
await c("error_unknown_embed", () => anon.from("users").select("name, nothing(*)"));
await c("error_throw_on_error", async () => {
  try {
    await anon.from("nope").select().throwOnError();
  } catch (err) {
    return { status: null, count: null, data: null, error: { name: err.name, ...err.toJSON() } };
  }
  throw new Error("no error thrown");
});

// Row-level security: each user sees and changes only their own notes.
await c("rls_anonymous", () => anon.from("notes").select());
await c("rls_insert_ann", () => ann.from("notes").insert({ body: "ann's note" }).select("owner, body"));
await c("rls_insert_bob", () => bob.from("notes").insert([{ body: "bob 1" }, { body: "bob 2" }]).select("owner, body"));
await c("rls_select_ann", () => ann.from("notes").select("owner, body").order("id"));
await c("rls_select_bob", () => bob.from("notes").select("owner, body", { count: "exact" }).order("id"));
await c("rls_insert_for_other", () => ann.from("notes").insert({ owner: "bob", body: "forged" }));
await c("rls_update_other", () => bob.from("notes").update({ body: "hacked" }).eq("owner", "ann").select());
await c("rls_delete_other", () => ann.from("notes").delete().eq("owner", "bob").select());
await c("rls_update_own", () => bob.from("notes").update({ body: "bob 1 edited" }).eq("body", "bob 1").select("body"));
await c("rls_bob_after", () => bob.from("notes").select("body").order("id"));

// A second exposed schema, and one that is not.
const shop = anon.schema("shop");
await c("schema_select", () => shop.from("products").select("name").order("id"));
await c("schema_rpc", () => shop.rpc("product_count"));
await c("schema_embed", () => shop.from("products").select("name, reviews(stars)").eq("id", 1).order("id", { referencedTable: "reviews" }));
await c("schema_insert", () => client(process.env.TOKEN_ANN).schema("shop").from("products").insert({ id: 3, name: "Desk" }).select());
await c("schema_not_exposed", () => anon.schema("private").from("secrets").select());
await c("schema_public_table_in_shop", () => shop.from("users").select());

done();
