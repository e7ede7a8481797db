package dataapi_test

// limit/offset, the Range header, Content-Range and Prefer: count,
// ported from PostgREST's pagination area. Where the upstream model states
// a behaviour without naming its case, the entry is named by the model's
// behaviour id (PAG-NNN).
func init() {
	const s = "pagination"
	const range416 = `{"code":"PGRST103","message":"Requested range not satisfiable","hint":null,`
	confAreas["pagination"] = []confCase{
		// upstream behaviour PAG-001 (pagination/all)
		{id: "PAG-001", feature: "pagination/all", schema: s, req: "GET /items?order=id&select=id&id=lte.3",
			status: 200, want: h("Content-Range: 0-2/*"), json: `[{"id":1},{"id":2},{"id":3}]`},
		// upstream behaviour PAG-002 (pagination/limit)
		{id: "PAG-002", feature: "pagination/limit", schema: s, req: "GET /items?order=id&limit=3",
			status: 200, want: h("Content-Range: 0-2/*"), json: `[{"id":1},{"id":2},{"id":3}]`},
		// upstream behaviour PAG-003 (pagination/limit-offset)
		{id: "PAG-003", feature: "pagination/limit-offset", schema: s, req: "GET /items?order=id&limit=3&offset=2",
			status: 200, want: h("Content-Range: 2-4/*"), json: `[{"id":3},{"id":4},{"id":5}]`},
		// upstream behaviour PAG-004 (pagination/limit-zero)
		{id: "PAG-004", feature: "pagination/limit-zero", schema: s, req: "GET /items?limit=0",
			status: 200, want: h("Content-Range: */*"), json: `[]`},
		// upstream case 1254 (pagination/limit/negative)
		{id: "1254", feature: "pagination/limit/negative", schema: s, req: "GET /items?limit=-1",
			status: 416, json: range416 + `"details":"Limit should be greater than or equal to zero."}`},
		// upstream behaviour PAG-006 (pagination/offset-zero)
		{id: "PAG-006", feature: "pagination/offset-zero", schema: s, req: "GET /items?order=id&offset=0&id=lte.2",
			status: 200, want: h("Content-Range: 0-1/*"), json: `[{"id":1},{"id":2}]`},
		// upstream behaviour PAG-007 (pagination/offset-negative)
		{id: "PAG-007", feature: "pagination/offset-negative", schema: s, req: "GET /items?order=id&offset=-4",
			status: 200, want: h("Content-Range: 0-14/*")},
		// upstream behaviour PAG-008 (pagination/offset-out-of-bounds)
		{id: "PAG-008", feature: "pagination/offset-out-of-bounds", schema: s, req: "GET /items?offset=100",
			hdr: h("Prefer: count=exact"), status: 416, want: h("Content-Range: */15"),
			json: range416 + `"details":"An offset of 100 was requested, but there are only 15 rows."}`},
		// upstream behaviour PAG-009 (pagination/range)
		{id: "PAG-009", feature: "pagination/range", schema: s, req: "GET /items?order=id",
			hdr: h("Range-Unit: items", "Range: 0-1"), status: 200, want: h("Content-Range: 0-1/*"), json: `[{"id":1},{"id":2}]`},
		// upstream case 1261 (pagination/range/with-limit)
		{id: "1261", feature: "pagination/range/with-limit", schema: s, req: "GET /items?order=id&limit=3",
			hdr: h("Range-Unit: items", "Range: 0-1"), status: 200, want: h("Content-Range: 0-1/*"), json: `[{"id":1},{"id":2}]`},
		// upstream behaviour PAG-011 (pagination/range/truncated)
		{id: "PAG-011", feature: "pagination/range/truncated", schema: s, req: "GET /items?order=id",
			hdr: h("Range-Unit: items", "Range: 10-100"), status: 200, want: h("Content-Range: 10-14/*"),
			json: `[{"id":11},{"id":12},{"id":13},{"id":14},{"id":15}]`},
		// upstream case 1265 (pagination/range/offside)
		{id: "1265", feature: "pagination/range/offside", schema: s, req: "GET /items",
			hdr: h("Range-Unit: items", "Range: 1-0"), status: 416,
			json: range416 + `"details":"The lower boundary must be lower than or equal to the upper boundary in the Range header."}`},
		// upstream behaviour PAG-013 (pagination/count/empty)
		{id: "PAG-013", feature: "pagination/count/empty", schema: s, req: "GET /items?id=eq.0",
			hdr: h("Prefer: count=exact"), status: 200, want: h("Content-Range: */0"), json: `[]`},
		// upstream case 1267 (pagination/count/none)
		{id: "1267", feature: "pagination/count/none", schema: s, req: "GET /items?order=id",
			hdr: h("Prefer: count=none"), status: 200, want: h("Content-Range: 0-14/*", "Preference-Applied: ")},
		// upstream case 1268 (pagination/count/none)
		{id: "1268", feature: "pagination/count/none", schema: s, req: "GET /items?order=id&limit=2",
			hdr: h("Prefer: count=none"), status: 200, want: h("Content-Range: 0-1/*", "Preference-Applied: "),
			json: `[{"id":1},{"id":2}]`},
		// upstream case 1270 (pagination/count/exact/partial)
		{id: "1270", feature: "pagination/count/exact/partial", schema: s, req: "GET /items?order=id&limit=2",
			hdr: h("Prefer: count=exact"), status: 206, want: h("Content-Range: 0-1/15"), json: `[{"id":1},{"id":2}]`},
		// upstream case 1272 (pagination/count/planned)
		{id: "1272", feature: "pagination/count/planned", schema: s, req: "GET /child_entities?order=id&limit=2",
			hdr: h("Prefer: count=planned"), status: 206, want: h("Content-Range: 0-1/6")},
		// upstream case 1277 (pagination/head/limit)
		{id: "1277", feature: "pagination/head/limit", schema: s, req: "HEAD /items?order=id&limit=2",
			status: 200, want: h("Content-Range: 0-1/*"), raw: str("")},
		// upstream case 1280 (pagination/rpc/count-exact)
		{id: "1280", feature: "pagination/rpc/count-exact", schema: s, req: "GET /rpc/getitemrange?min=2&max=4&limit=1&offset=1",
			hdr: h("Prefer: count=exact"), status: 206, want: h("Content-Range: 1-1/2"), json: `[{"id":4}]`},
		// upstream case 1281 (pagination/rpc/post-limit)
		{id: "1281", feature: "pagination/rpc/post-limit", schema: s, req: "POST /rpc/getitemrange?limit=1",
			body: `{"min":2,"max":4}`, status: 200, want: h("Content-Range: 0-0/*"), json: `[{"id":3}]`},
		// upstream case 1283 (pagination/rpc/count-planned)
		{id: "1283", feature: "pagination/rpc/count-planned", schema: s, req: "GET /rpc/getitemrange?min=0&max=15&limit=2",
			hdr: h("Prefer: count=planned"), status: 200, want: h("Content-Range: 0-1/*")},
		// upstream case 1284 (pagination/range/head-ignored)
		{id: "1284", feature: "pagination/range/head-ignored", schema: s, req: "HEAD /items",
			hdr: h("Range-Unit: items", "Range: 0-1"), status: 200, want: h("Content-Range: 0-14/*"), raw: str("")},
		// upstream case 1285 (pagination/range/rpc-post-ignored)
		{id: "1285", feature: "pagination/range/rpc-post-ignored", schema: s, req: "POST /rpc/getitemrange",
			hdr: h("Range-Unit: items", "Range: 0-1"), body: `{"min":0,"max":4}`,
			status: 200, want: h("Content-Range: 0-3/*"), json: `[{"id":1},{"id":2},{"id":3},{"id":4}]`},
		// upstream case 1286 (pagination/count/preference-applied)
		{id: "1286", feature: "pagination/count/preference-applied", schema: s, req: "GET /items?id=eq.1",
			hdr: h("Prefer: count=exact"), status: 200, want: h("Content-Range: 0-0/1", "Preference-Applied: count=exact"),
			json: `[{"id":1}]`},
		// upstream case 1287 (pagination/range/intersection)
		{id: "1287", feature: "pagination/range/intersection", schema: s, req: "GET /items?order=id&limit=2",
			hdr: h("Range-Unit: items", "Range: 0-5"), status: 200, want: h("Content-Range: 0-1/*"), json: `[{"id":1},{"id":2}]`},
		// upstream case 1288 (pagination/count/none-strict)
		{id: "1288", feature: "pagination/count/none-strict", schema: s, req: "GET /items",
			hdr: h("Prefer: count=none, handling=strict"), status: 400,
			json: `{"code":"PGRST122","message":"Invalid preferences given with handling=strict","details":"Invalid preferences: count=none","hint":null}`},
	}
}
