package dataapi_test

// Prefer: return= on every write, with the status, headers and body each
// answers with, ported from PostgREST's representations area. Entries the
// upstream model states without naming a case are named by the model's
// path (REP:…).
func init() {
	const s = "representations"
	confAreas["representations"] = []confCase{
		// upstream case 1300 (representations/post/representation-count)
		{id: "1300", feature: "representations/post/representation-count", schema: s, req: "POST /projects",
			hdr: h("Prefer: return=representation, count=exact"), body: `{"id":10,"name":"New","client_id":1}`,
			status: 201, want: h("Content-Range: */1", "Preference-Applied: return=representation, count=exact", "Location: ", "Content-Type: "+ctJSON),
			json: `[{"id":10,"name":"New","client_id":1}]`},
		// upstream behaviour REP:actions.post_insert.resolutions.minimal
		{id: "REP:post.minimal", feature: "representations/post/minimal", schema: s, req: "POST /projects",
			hdr: h("Prefer: return=minimal"), body: `{"id":11,"name":"Min","client_id":1}`,
			status: 201, want: h("Content-Range: */*", "Preference-Applied: return=minimal", "Content-Type: ", "Content-Length: 0", "Location: "), raw: str("")},
		// upstream behaviour REP:actions.post_insert (no return token)
		{id: "REP:post.none", feature: "representations/post/none", schema: s, req: "POST /projects",
			body:   `{"id":12,"name":"None","client_id":1}`,
			status: 201, want: h("Content-Range: */*", "Preference-Applied: ", "Content-Type: ", "Location: "), raw: str("")},
		// upstream behaviour REP:notes.headers-only-location
		{id: "REP:post.headers-only", feature: "representations/post/headers-only", schema: s, req: "POST /projects",
			hdr: h("Prefer: return=headers-only"), body: `{"id":11,"name":"HO","client_id":1}`,
			status: 201, want: h("Location: /projects?id=eq.11", "Preference-Applied: return=headers-only", "Content-Type: "), raw: str("")},
		// upstream case 1305 (representations/post/headers-only-serial)
		{id: "1305", feature: "representations/post/headers-only-serial", schema: s, req: "POST /auto_incrementing_pk",
			hdr: h("Prefer: return=headers-only"), body: `{"non_nullable_string":"second"}`,
			status: 201, want: h("Location: /auto_incrementing_pk?id=eq.2"), raw: str("")},
		// upstream case 1307 (representations/post/merge-duplicates-nothing-inserted)
		{id: "1307", feature: "representations/post/merge-duplicates-nothing-inserted", schema: s, req: "POST /projects",
			hdr: h("Prefer: resolution=merge-duplicates, return=representation"), body: `[]`,
			status: 200, json: `[]`},
		// upstream case 1309 (representations/post/headers-only-composite-key)
		{id: "1309", feature: "representations/post/headers-only-composite-key", schema: s, req: "POST /car_models",
			hdr: h("Prefer: return=headers-only"), body: `{"name":"Enzo","year":2021}`,
			status: 201, want: h("Location: /car_models?name=eq.Enzo&year=eq.2021"), raw: str("")},
		// upstream case 1311 (representations/patch/minimal)
		{id: "1311", feature: "representations/patch/minimal", schema: s, req: "PATCH /items?id=eq.2",
			hdr: h("Prefer: return=minimal"), body: `{"id":2}`,
			status: 204, want: h("Content-Range: 0-0/*", "Preference-Applied: return=minimal", "Content-Type: ", "Content-Length: "), raw: str("")},
		// upstream behaviour REP:actions.patch_update.resolutions.representation
		{id: "REP:patch.representation", feature: "representations/patch/representation", schema: s, req: "PATCH /items?id=eq.2",
			hdr: h("Prefer: return=representation"), body: `{"id":2}`,
			status: 200, want: h("Content-Range: 0-0/*", "Preference-Applied: return=representation", "Content-Type: "+ctJSON), json: `[{"id":2}]`},
		// upstream behaviour REP:notes.patch-representation-zero-rows
		{id: "REP:patch.representation-none", feature: "representations/patch/representation-no-rows", schema: s, req: "PATCH /items?id=eq.99",
			hdr: h("Prefer: return=representation"), body: `{"id":99}`, status: 200, json: `[]`},
		// upstream behaviour REP:notes.patch-headers-only
		{id: "REP:patch.headers-only", feature: "representations/patch/headers-only", schema: s, req: "PATCH /items?id=eq.2",
			hdr: h("Prefer: return=headers-only"), body: `{"id":2}`,
			status: 204, want: h("Content-Range: 0-0/*", "Preference-Applied: return=headers-only", "Content-Type: "), raw: str("")},
		// upstream case 1315 (representations/post/headers-only-bulk)
		{id: "1315", feature: "representations/post/headers-only-bulk", schema: s, req: "POST /projects",
			hdr: h("Prefer: return=headers-only"), body: `[{"id":21,"name":"A","client_id":1},{"id":22,"name":"B","client_id":2}]`,
			status: 201, want: h("Location: ", "Preference-Applied: return=headers-only"), raw: str("")},
		// upstream case 1316 (representations/post/headers-only-no-pk)
		{id: "1316", feature: "representations/post/headers-only-no-pk", schema: s, req: "POST /no_pk",
			hdr: h("Prefer: return=headers-only"), body: `{"a":"3","b":"1"}`,
			status: 201, want: h("Location: "), raw: str("")},
		// upstream case 1318 (representations/prefer/duplicate-token)
		{id: "1318", feature: "representations/prefer/duplicate-token", schema: s, req: "POST /projects",
			hdr: h("Prefer: return=minimal, return=representation"), body: `{"id":13,"name":"Dup","client_id":1}`,
			status: 201, want: h("Preference-Applied: return=minimal"), raw: str("")},
		// upstream case 1319 (representations/prefer/unknown-value)
		{id: "1319", feature: "representations/prefer/unknown-value", schema: s, req: "POST /projects",
			hdr: h("Prefer: return=bogus"), body: `{"id":14,"name":"Bogus","client_id":1}`,
			status: 201, want: h("Preference-Applied: ", "Content-Range: */*"), raw: str("")},
		// upstream case 1320 (representations/delete/count)
		{id: "1320", feature: "representations/delete/count", schema: s, req: "DELETE /items?id=eq.1",
			hdr: h("Prefer: count=exact"), status: 204, want: h("Content-Range: */1", "Preference-Applied: count=exact"), raw: str("")},
		// upstream behaviour REP:actions.delete.resolutions.representation
		{id: "REP:delete.representation", feature: "representations/delete/representation", schema: s,
			req: "DELETE /complex_items?id=eq.2&select=id,name", hdr: h("Prefer: return=representation"),
			status: 200, want: h("Content-Range: */*", "Preference-Applied: return=representation"), json: `[{"id":2,"name":"Two"}]`},
		// upstream behaviour REP:actions.delete.resolutions.minimal
		{id: "REP:delete.minimal", feature: "representations/delete/minimal", schema: s, req: "DELETE /items?id=eq.3",
			hdr: h("Prefer: return=minimal"), status: 204, want: h("Content-Range: */*", "Preference-Applied: return=minimal", "Content-Type: "), raw: str("")},
		// upstream behaviour REP:notes.select-ignored-without-representation
		{id: "REP:delete.select-ignored", feature: "representations/delete/select-ignored", schema: s,
			req: "DELETE /complex_items?id=eq.3&select=id", status: 204, raw: str("")},
		// upstream case 1325 (representations/prefer/return-not-echoed-on-read)
		{id: "1325", feature: "representations/prefer/return-not-echoed-on-read", schema: s, req: "GET /items?id=eq.1",
			hdr: h("Prefer: return=representation"), status: 200, want: h("Preference-Applied: "), json: `[{"id":1}]`},
		// upstream case 1326 (representations/prefer/return-not-echoed-on-rpc)
		{id: "1326", feature: "representations/prefer/return-not-echoed-on-rpc", schema: s, req: "POST /rpc/add_them",
			hdr: h("Prefer: return=representation"), body: `{"a":1,"b":2}`, status: 200, want: h("Preference-Applied: "), json: `3`},
		// upstream case 1327 (representations/prefer/applied-order)
		{id: "1327", feature: "representations/prefer/applied-order", schema: s, req: "POST /projects",
			hdr: h("Prefer: count=exact, return=representation"), body: `{"id":15,"name":"Order","client_id":2}`,
			status: 201, want: h("Preference-Applied: return=representation, count=exact", "Content-Range: */1"),
			json: `[{"id":15,"name":"Order","client_id":2}]`},
		// upstream case 1330 (representations/put/insert)
		{id: "1330", feature: "representations/put/insert", schema: s, req: "PUT /projects?id=eq.30",
			hdr: h("Prefer: return=representation"), body: `{"id":30,"name":"Put","client_id":1}`,
			status: 201, want: h("Content-Range: ", "Preference-Applied: return=representation"), json: `[{"id":30,"name":"Put","client_id":1}]`},
		// upstream behaviour REP:notes.put-representation-replaces
		{id: "REP:put.replace", feature: "representations/put/replace", schema: s, req: "PUT /projects?id=eq.1",
			hdr: h("Prefer: return=representation"), body: `{"id":1,"name":"Windows 7 SP1","client_id":1}`,
			status: 200, want: h("Content-Range: ", "Preference-Applied: return=representation"), json: `[{"id":1,"name":"Windows 7 SP1","client_id":1}]`},
		// upstream case 1332 (representations/put/minimal)
		{id: "1332", feature: "representations/put/minimal", schema: s, req: "PUT /projects?id=eq.1",
			hdr: h("Prefer: return=minimal"), body: `{"id":1,"name":"Windows 7 SP2","client_id":1}`,
			status: 204, want: h("Content-Range: ", "Preference-Applied: return=minimal", "Content-Type: "), raw: str("")},
	}
}
