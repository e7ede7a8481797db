package dataapi_test

// Media types and the singular object, profiles and other headers, ported
// from PostgREST's representations/singular, content negotiation and
// headers areas; entries are named by the upstream behaviour they mirror
// (SNG:…, HDR:…) where the upstream model names no case.
func init() {
	const obj = "application/vnd.pgrst.object+json"
	const objCT = obj + "; charset=utf-8"
	const coerce = `"hint":null,"message":"Cannot coerce the result to a single JSON object"}`
	confAreas["singular"] = []confCase{
		// upstream behaviour SNG:one-row
		{id: "SNG:one-row", feature: "singular/one-row", req: "GET /projects?id=eq.1", hdr: h("Accept: " + obj),
			status: 200, want: h("Content-Type: " + objCT), json: `{"id":1,"name":"Windows 7","client_id":1}`},
		// upstream behaviour SNG:zero-rows
		{id: "SNG:zero-rows", feature: "singular/zero-rows", req: "GET /projects?id=eq.99", hdr: h("Accept: " + obj),
			status: 406, json: `{"code":"PGRST116","details":"The result contains 0 rows",` + coerce},
		// upstream behaviour SNG:many-rows
		{id: "SNG:many-rows", feature: "singular/many-rows", req: "GET /projects", hdr: h("Accept: " + obj),
			status: 406, json: `{"code":"PGRST116","details":"The result contains 5 rows",` + coerce},
		// upstream behaviour SNG:insert
		{id: "SNG:insert", feature: "singular/insert", schema: "mutations", req: "POST /projects",
			hdr: h("Accept: "+obj, "Prefer: return=representation"), body: `{"id":20,"name":"Single","client_id":1}`,
			status: 201, want: h("Content-Type: " + objCT), json: `{"id":20,"name":"Single","client_id":1}`},
		// upstream behaviour SNG:update-many
		{id: "SNG:update-many", feature: "singular/update-many", schema: "mutations", req: "PATCH /projects?client_id=eq.1",
			hdr: h("Accept: "+obj, "Prefer: return=representation"), body: `{"name":"x"}`,
			status: 406, json: `{"code":"PGRST116","details":"The result contains 2 rows",` + coerce},
		// upstream behaviour SNG:rpc-scalar
		{id: "SNG:rpc-scalar", feature: "singular/rpc/scalar", schema: "rpc", req: "GET /rpc/add_them?a=1&b=2", hdr: h("Accept: " + obj),
			status: 200, raw: str("3")},
		// upstream behaviour SNG:rpc-one-row
		{id: "SNG:rpc-one-row", feature: "singular/rpc/one-row", schema: "rpc", req: "GET /rpc/getproject?id=1", hdr: h("Accept: " + obj),
			status: 200, want: h("Content-Type: " + objCT), json: `{"id":1,"name":"Windows 7","client_id":1}`},
		// upstream behaviour SNG:rpc-many-rows
		{id: "SNG:rpc-many-rows", feature: "singular/rpc/many-rows", schema: "rpc", req: "GET /rpc/getallprojects", hdr: h("Accept: " + obj),
			status: 406, json: `{"code":"PGRST116","details":"The result contains 5 rows",` + coerce},
		// upstream behaviour SNG:rpc-zero-rows
		{id: "SNG:rpc-zero-rows", feature: "singular/rpc/zero-rows", schema: "rpc", req: "GET /rpc/getproject?id=99", hdr: h("Accept: " + obj),
			status: 406, json: `{"code":"PGRST116","details":"The result contains 0 rows",` + coerce},
	}
	confAreas["headers"] = []confCase{
		// upstream behaviour HDR:accept-unavailable
		{id: "HDR:accept-unavailable", feature: "headers/accept/unavailable", req: "GET /projects", hdr: h("Accept: text/unknown"),
			status: 406, json: `{"code":"PGRST107","details":null,"hint":null,"message":"None of these media types are available: text/unknown"}`},
		// upstream behaviour HDR:accept-any
		{id: "HDR:accept-any", feature: "headers/accept/any", req: "GET /projects?id=eq.1&select=id", hdr: h("Accept: */*"),
			status: 200, want: h("Content-Type: " + ctJSON), json: `[{"id":1}]`},
		// upstream behaviour HDR:accept-csv
		{id: "HDR:accept-csv", feature: "headers/accept/csv", req: "GET /projects?select=id,client_id&id=lt.3&order=id", hdr: h("Accept: text/csv"),
			status: 200, want: h("Content-Type: text/csv; charset=utf-8"), raw: str("id,client_id\n1,1\n2,1")},
		// upstream behaviour HDR:profile-default (case 1008 with this
		// harness's default profile, test)
		{id: "HDR:profile-default", feature: "headers/profile/default", req: "GET /items?id=eq.1",
			status: 200, want: h("Content-Profile: test"), json: `[{"id":1}]`},
		// upstream behaviour HDR:profile-accept
		{id: "HDR:profile-accept", feature: "headers/profile/accept", schema: "operators", req: "GET /items?id=eq.2",
			status: 200, want: h("Content-Profile: operators"), json: `[{"id":2}]`},
		// upstream behaviour HDR:profile-content
		{id: "HDR:profile-content", feature: "headers/profile/content", schema: "mutations", req: "POST /items",
			hdr: h("Prefer: return=representation"), body: `{"id":40}`,
			status: 201, want: h("Content-Profile: mutations"), json: `[{"id":40}]`},
		// upstream behaviour HDR:profile-accept-ignored-on-write
		{id: "HDR:profile-accept-on-write", feature: "headers/profile/accept-on-write", req: "POST /items",
			hdr: h("Accept-Profile: mutations", "Prefer: return=representation"), body: `{"id":41}`,
			status: 201, want: h("Content-Profile: test"), json: `[{"id":41}]`},
		// upstream behaviour HDR:prefer-invalid-lenient
		{id: "HDR:prefer-invalid-lenient", feature: "headers/prefer/invalid-lenient", req: "GET /items?id=eq.1",
			hdr: h("Prefer: anything=else"), status: 200, want: h("Preference-Applied: "), json: `[{"id":1}]`},
		// upstream case 1551 (headers/prefer/handling-strict)
		{id: "1551", feature: "headers/prefer/handling-strict", req: "GET /items?id=eq.1",
			hdr: h("Prefer: handling=strict, anything=else"), status: 400,
			json: `{"code":"PGRST122","details":"Invalid preferences: anything=else","hint":null,"message":"Invalid preferences given with handling=strict"}`},
		// upstream behaviour HDR:prefer-multiple-headers
		{id: "HDR:prefer-multiple-headers", feature: "headers/prefer/split", schema: "mutations", req: "POST /projects",
			hdr: h("Prefer: return=representation"), body: `{"id":21,"name":"P","client_id":1}`,
			status: 201, want: h("Preference-Applied: return=representation"), json: `[{"id":21,"name":"P","client_id":1}]`},
		// upstream behaviour HDR:content-range-read
		{id: "HDR:content-range-read", feature: "headers/content-range/read", req: "GET /projects?select=id&order=id&offset=1&limit=2",
			status: 200, want: h("Content-Range: 1-2/*"), json: `[{"id":2},{"id":3}]`},
		// upstream behaviour HDR:content-range-empty
		{id: "HDR:content-range-empty", feature: "headers/content-range/empty", req: "GET /projects?id=eq.99",
			status: 200, want: h("Content-Range: */*"), json: `[]`},
		// upstream behaviour HDR:unknown-method
		{id: "HDR:unknown-method", feature: "headers/method/unknown", req: "TRACE /projects",
			status: 405, fields: `{"code":"PGRST117","message":"Unsupported HTTP method: TRACE"}`},
	}
}
