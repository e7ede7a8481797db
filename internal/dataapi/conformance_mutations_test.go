package dataapi_test

// POST, PATCH, PUT and DELETE: bodies, ?columns=, missing=default,
// upserts and their errors, ported from PostgREST's mutations area.
// Entries the upstream model states without naming a case are named by
// the model's path (MUT:…).
func init() {
	const s = "mutations"
	const invalidJSON = `{"code":"PGRST102","details":null,"hint":null,"message":"Empty or invalid json"}`
	const keysMatch = `{"code":"PGRST102","details":null,"hint":null,"message":"All object keys must match"}`
	rep := h("Prefer: return=representation")
	confAreas["mutations"] = []confCase{
		// upstream behaviour MUT:insert.body.object
		{id: "MUT:insert.object", feature: "mutations/insert/object", schema: s, req: "POST /projects",
			body:   `{"id":6,"name":"New Project","client_id":2}`,
			status: 201, want: h("Content-Range: */*", "Location: ", "Content-Type: "), raw: str("")},
		// upstream behaviour MUT:insert.body.array
		{id: "MUT:insert.array", feature: "mutations/insert/array", schema: s, req: "POST /compound_pk", hdr: rep,
			body:   `[{"k1":1,"k2":"a","extra":1},{"k1":2,"k2":"b","extra":null}]`,
			status: 201, json: `[{"k1":1,"k2":"a","extra":1},{"k1":2,"k2":"b","extra":null}]`},
		// upstream behaviour MUT:insert.body.form
		{id: "MUT:insert.form", feature: "mutations/insert/form", schema: s, req: "POST /projects",
			hdr: h("Prefer: return=representation", "Content-Type: application/x-www-form-urlencoded"), body: "id=7&name=Form+Project&client_id=1",
			status: 201, json: `[{"id":7,"name":"Form Project","client_id":1}]`},
		// upstream behaviour MUT:insert.body.whitespace
		{id: "MUT:insert.whitespace", feature: "mutations/insert/whitespace", schema: s, req: "POST /projects", hdr: rep,
			body: "\n  {\"id\":8,\"name\":\"Spaced\",\"client_id\":1}  \n", status: 201, json: `[{"id":8,"name":"Spaced","client_id":1}]`},
		// upstream behaviour MUT:insert.body.empty_object
		{id: "MUT:insert.empty_object", feature: "mutations/insert/empty-object", schema: s, req: "POST /items", hdr: rep,
			body: `{}`, status: 201, json: `[{"id":16}]`},
		// upstream behaviour MUT:insert.body.empty_array
		{id: "MUT:insert.empty_array", feature: "mutations/insert/empty-array", schema: s, req: "POST /items", hdr: rep,
			body: `[]`, status: 201, json: `[]`},
		// upstream case 1354 (mutations/insert/error/non-uniform-keys)
		{id: "1354", feature: "mutations/insert/error/non-uniform-keys", schema: s, req: "POST /articles",
			body: `[{"id":100,"body":"x"},{"id":101,"body":"y","owner":"z"}]`, status: 400, json: keysMatch},
		// upstream behaviour MUT:insert.errors.non_uniform_not_all_objects
		{id: "MUT:insert.not_all_objects", feature: "mutations/insert/error/not-all-objects", schema: s, req: "POST /articles",
			body: `[{"id":100,"body":"x"},123,"xxxx",{"id":101,"body":"y"}]`, status: 400, json: keysMatch},
		// upstream behaviour MUT:insert.errors.invalid_json
		{id: "MUT:insert.invalid_json", feature: "mutations/insert/error/invalid-json", schema: s, req: "POST /articles",
			body: `}{ x = 2`, status: 400, json: invalidJSON},
		// upstream behaviour MUT:insert.errors.empty_body
		{id: "MUT:insert.empty_body", feature: "mutations/insert/error/empty-body", schema: s, req: "POST /articles",
			hdr: h("Content-Type: application/json"), status: 400, json: invalidJSON},
		// upstream behaviour MUT:insert.errors.duplicate_pk
		{id: "MUT:insert.duplicate_pk", feature: "mutations/insert/error/duplicate-pk", schema: s, req: "POST /projects",
			body: `{"id":1,"name":"Again","client_id":1}`, status: 409, fields: `{"code":"23505"}`},
		// upstream behaviour MUT:insert.errors.unique_violation
		{id: "MUT:insert.unique_violation", feature: "mutations/insert/error/unique", schema: s, req: "POST /withUnique",
			body: `{"uni":"nodup","extra":"x"}`, status: 409, fields: `{"code":"23505"}`},
		// upstream behaviour MUT:insert.errors.not_null_violation
		{id: "MUT:insert.not_null", feature: "mutations/insert/error/not-null", schema: s, req: "POST /projects",
			body: `{"id":9}`, status: 400, fields: `{"code":"23502"}`},
		// upstream case 1360 (mutations/columns-param/table-not-found-precedence)
		{id: "1360", feature: "mutations/columns-param/table-not-found-precedence", schema: s, req: "POST /garlic?columns=a,b",
			body: `{"a":1}`, status: 404,
			json: `{"code":"PGRST205","details":null,"hint":null,"message":"Could not find the table 'mutations.garlic' in the schema cache"}`},
		// upstream behaviour MUT:columns_param.ignores_unlisted_keys
		{id: "MUT:columns.ignores_unlisted", feature: "mutations/columns-param/ignores-unlisted", schema: s,
			req: "POST /articles?columns=id,body", hdr: rep, body: `{"id":200,"body":"b","owner":"x","junk":1}`,
			status: 201, json: `[{"id":200,"body":"b","owner":"anonymous"}]`},
		// upstream behaviour MUT:columns_param.blank_is_parse_error
		{id: "MUT:columns.blank", feature: "mutations/columns-param/blank", schema: s, req: "POST /articles?columns=",
			body: `{"id":201}`, status: 400, fields: `{"code":"PGRST100"}`},
		// upstream behaviour MUT:columns_param.unknown_column
		{id: "MUT:columns.unknown", feature: "mutations/columns-param/unknown-column", schema: s, req: "POST /articles?columns=id,nope",
			body: `{"id":202}`, status: 400, fields: `{"code":"PGRST204"}`},
		// upstream case 1366 (mutations/update/columns-param)
		{id: "1366", feature: "mutations/update/columns-param", schema: s, req: "PATCH /articles?id=eq.1&columns=body",
			hdr: rep, body: `{"body":"patched","owner":"ignored"}`, status: 200, json: `[{"id":1,"body":"patched","owner":"diogo"}]`},
		// upstream behaviour MUT:columns_param.unknown_column_patch
		{id: "MUT:columns.unknown_patch", feature: "mutations/update/columns-param/unknown-column", schema: s,
			req: "PATCH /articles?id=eq.1&columns=nope", body: `{"nope":1}`, status: 400, fields: `{"code":"PGRST204"}`},
		// upstream behaviour MUT:missing_default.applies_table_defaults
		{id: "MUT:missing.default", feature: "mutations/missing-default", schema: s, req: "POST /articles?columns=id,body,owner",
			hdr: h("Prefer: missing=default, return=representation"), body: `[{"id":300,"body":"x"},{"id":301,"body":"y","owner":"z"}]`,
			status: 201, want: h("Preference-Applied: missing=default, return=representation"),
			json: `[{"id":300,"body":"x","owner":"anonymous"},{"id":301,"body":"y","owner":"z"}]`},
		// upstream behaviour MUT:missing_default (absent: a missing value is null)
		{id: "MUT:missing.null", feature: "mutations/missing-null", schema: s, req: "POST /articles?columns=id,body,owner",
			body: `[{"id":302,"body":"x"}]`, status: 400, fields: `{"code":"23502"}`},
		// upstream behaviour MUT:missing_default.generated_always_column
		{id: "MUT:missing.generated", feature: "mutations/missing-default/generated", schema: s, req: "POST /has_generated?columns=a,b",
			hdr: h("Prefer: missing=default"), body: `{"a":1,"b":5}`, status: 400,
			json: `{"code":"428C9","details":"Column \"b\" is a generated column.","hint":null,"message":"cannot insert a non-DEFAULT value into column \"b\""}`},
		// upstream behaviour MUT:update.status.no_content
		{id: "MUT:update.no_content", feature: "mutations/update/no-content", schema: s, req: "PATCH /projects?id=eq.2",
			body: `{"name":"Windows 11"}`, status: 204, want: h("Content-Range: 0-0/*"), raw: str("")},
		// upstream behaviour MUT:update.content_range.multiple_rows
		{id: "MUT:update.multiple", feature: "mutations/update/multiple", schema: s, req: "PATCH /projects?client_id=eq.1",
			body: `{"name":"Windows"}`, status: 204, want: h("Content-Range: 0-1/*"), raw: str("")},
		// upstream behaviour MUT:update.status.zero_rows_no_return
		{id: "MUT:update.zero_rows", feature: "mutations/update/zero-rows", schema: s, req: "PATCH /projects?id=eq.99",
			body: `{"name":"None"}`, status: 204, want: h("Content-Range: */*"), raw: str("")},
		// upstream behaviour MUT:update.empty_body
		{id: "MUT:update.empty_body", feature: "mutations/update/empty-body", schema: s, req: "PATCH /projects?id=eq.2",
			body: `{}`, status: 204, want: h("Content-Range: */*"), raw: str("")},
		// upstream behaviour MUT:update.empty_body (return=representation)
		{id: "MUT:update.empty_body_rep", feature: "mutations/update/empty-body", schema: s, req: "PATCH /projects?id=eq.2",
			hdr: rep, body: `{}`, status: 200, json: `[]`},
		// upstream behaviour MUT:update.resource_embedding
		{id: "MUT:update.embed", feature: "mutations/update/embed", schema: s, req: "PATCH /projects?id=eq.3&select=name,clients(name)",
			hdr: rep, body: `{"name":"iOS"}`, status: 200, json: `[{"name":"iOS","clients":{"name":"Apple"}}]`},
		// upstream case 1368 (mutations/update/error/table-not-found)
		{id: "1368", feature: "mutations/update/error/table-not-found", schema: s, req: "PATCH /fake?id=eq.1",
			body: `{"a":1}`, status: 404,
			json: `{"code":"PGRST205","details":null,"hint":null,"message":"Could not find the table 'mutations.fake' in the schema cache"}`},
		// upstream behaviour MUT:delete (plain)
		{id: "MUT:delete.plain", feature: "mutations/delete", schema: s, req: "DELETE /items?id=eq.1",
			status: 204, want: h("Content-Type: "), raw: str("")},
		// upstream behaviour MUT:delete (representation with embedding)
		{id: "MUT:delete.embed", feature: "mutations/delete/embed", schema: s, req: "DELETE /projects?id=eq.5&select=id,name,clients(name)",
			hdr: rep, status: 200, json: `[{"id":5,"name":"Orphan","clients":null}]`},
		// upstream case 1373 (mutations/delete/error/table-not-found)
		{id: "1373", feature: "mutations/delete/error/table-not-found", schema: s, req: "DELETE /foozle?id=eq.7",
			status: 404, json: `{"code":"PGRST205","details":null,"hint":null,"message":"Could not find the table 'mutations.foozle' in the schema cache"}`},
		// upstream case 1390 (mutations/max-affected/strict-exceeded)
		{id: "1390", feature: "mutations/max-affected/strict-exceeded", schema: s, req: "DELETE /items?id=lt.15",
			hdr: h("Prefer: handling=strict, max-affected=10"), status: 400,
			json: `{"code":"PGRST124","details":"The query affects 14 rows","hint":null,"message":"Query result exceeds max-affected preference constraint"}`},
		// upstream case 1391 (mutations/max-affected/strict-within)
		{id: "1391", feature: "mutations/max-affected/strict-within", schema: s, req: "DELETE /items?id=lt.3",
			hdr: h("Prefer: handling=strict, max-affected=10"), status: 204,
			want: h("Preference-Applied: handling=strict, max-affected=10"), raw: str("")},
		// upstream case 1392 (mutations/max-affected/lenient)
		{id: "1392", feature: "mutations/max-affected/lenient", schema: s, req: "DELETE /items?id=lt.15",
			hdr: h("Prefer: max-affected=10"), status: 204, raw: str("")},
		// upstream case 11405 (mutations/max-affected/update)
		{id: "11405", feature: "mutations/max-affected/update", schema: s, req: "PATCH /projects?id=gt.0",
			hdr: h("Prefer: handling=strict, max-affected=2"), body: `{"name":"x"}`, status: 400,
			json: `{"code":"PGRST124","details":"The query affects 5 rows","hint":null,"message":"Query result exceeds max-affected preference constraint"}`},
		// upstream behaviour MUT:upsert.merge_duplicates
		{id: "MUT:upsert.merge", feature: "mutations/upsert/merge-duplicates", schema: s, req: "POST /tiobe_pls",
			hdr: h("Prefer: return=representation, resolution=merge-duplicates"), body: `[{"name":"Javascript","rank":6},{"name":"Java","rank":2}]`,
			status: 201, want: h("Preference-Applied: resolution=merge-duplicates, return=representation"),
			json: `[{"name":"Javascript","rank":6},{"name":"Java","rank":2}]`},
		// upstream behaviour MUT:upsert.ignore_duplicates
		{id: "MUT:upsert.ignore", feature: "mutations/upsert/ignore-duplicates", schema: s, req: "POST /tiobe_pls",
			hdr: h("Prefer: return=representation, resolution=ignore-duplicates"), body: `[{"name":"PHP","rank":9},{"name":"Python","rank":1}]`,
			status: 201, want: h("Preference-Applied: resolution=ignore-duplicates, return=representation"),
			json: `[{"name":"PHP","rank":9}]`},
		// upstream behaviour MUT:upsert.on_conflict
		{id: "MUT:upsert.on_conflict", feature: "mutations/upsert/on-conflict", schema: s, req: "POST /withUnique?on_conflict=uni",
			hdr: h("Prefer: return=representation, resolution=merge-duplicates"), body: `[{"uni":"nodup","extra":"changed"},{"uni":"new","extra":"fresh"}]`,
			status: 201, json: `[{"uni":"nodup","extra":"changed"},{"uni":"new","extra":"fresh"}]`},
		// upstream case 11404 (mutations/upsert/ignore-nothing-created)
		{id: "11404", feature: "mutations/upsert/ignore-nothing-created", schema: s, req: "POST /tiobe_pls",
			hdr: h("Prefer: return=representation, resolution=ignore-duplicates"), body: `[{"name":"Java","rank":5}]`,
			status: 201, json: `[]`},
		// upstream behaviour MUT:put.pk_mismatch
		{id: "MUT:put.pk_mismatch", feature: "mutations/put/pk-mismatch", schema: s, req: "PUT /tiobe_pls?name=eq.Java",
			body: `{"name":"Go","rank":1}`, status: 400,
			json: `{"code":"PGRST115","details":null,"hint":null,"message":"Payload values do not match URL in primary key column(s)"}`},
		// upstream behaviour MUT:put.filters_not_pk
		{id: "MUT:put.filters_not_pk", feature: "mutations/put/filters-not-pk", schema: s, req: "PUT /tiobe_pls?rank=eq.1",
			body: `{"name":"Java","rank":1}`, status: 405,
			json: `{"code":"PGRST105","details":null,"hint":null,"message":"Filters must include all and only primary key columns with 'eq' operators"}`},
		// upstream case 11409 (mutations/put/partial-composite-pk)
		{id: "11409", feature: "mutations/put/partial-composite-pk", schema: s, req: "PUT /compound_pk?k1=eq.1",
			body: `{"k1":1,"k2":"a","extra":1}`, status: 405, fields: `{"code":"PGRST105"}`},
		// upstream case 11408 (mutations/put/composite-pk)
		{id: "11408", feature: "mutations/put/composite-pk", schema: s, req: "PUT /compound_pk?k1=eq.1&k2=eq.a",
			hdr: rep, body: `{"k1":1,"k2":"a","extra":7}`, status: 201, json: `[{"k1":1,"k2":"a","extra":7}]`},
		// upstream case 1399 (mutations/put/offset-forbidden)
		{id: "1399", feature: "mutations/put/offset-forbidden", schema: s, req: "PUT /tiobe_pls?name=eq.Java&offset=1",
			body: `{"name":"Java","rank":1}`, status: 400, fields: `{"code":"PGRST114"}`},
	}
}
