package dataapi_test

// The URL grammar: paths, reserved parameters, quoting and profiles,
// ported from PostgREST's cases of the url_grammar area. Upstream serves
// the v1/v2 cases from an instance whose default profile is v1; here v1
// is named by Accept-Profile.
func init() {
	confAreas["url_grammar"] = []confCase{
		// upstream case 1000 (url_grammar/path/relation)
		{id: "1000", feature: "url_grammar/path/relation", req: "GET /items?id=eq.5",
			status: 200, want: h("Content-Type: "+ctJSON, "Content-Range: 0-0/*"), json: `[{"id":5}]`},
		// upstream case 1001 (url_grammar/path/invalid)
		{id: "1001", feature: "url_grammar/path/invalid", req: "GET /first/second/third?select=*",
			status: 404, want: h("Content-Type: " + ctJSON),
			json: `{"code":"PGRST125","details":null,"hint":null,"message":"Invalid path specified in request URL"}`},
		// upstream case 1002 (url_grammar/path/invalid)
		{id: "1002", feature: "url_grammar/path/invalid", req: "GET /invalid/nested/paths",
			status: 404, want: h("Proxy-Status: PostgREST; error=PGRST125"),
			json: `{"code":"PGRST125","details":null,"hint":null,"message":"Invalid path specified in request URL"}`},
		// upstream case 1005 (url_grammar/path/rpc)
		{id: "1005", feature: "url_grammar/path/rpc", schema: "v1", req: "GET /rpc/get_parents_below?id=6",
			status: 200, want: h("Content-Type: "+ctJSON, "Content-Profile: v1"),
			json: `[{"id":1,"name":"parent v1-1"},{"id":2,"name":"parent v1-2"}]`},
		// upstream case 1006 (url_grammar/method/rpc-invalid)
		{id: "1006", feature: "url_grammar/method/rpc-invalid", schema: "v1", req: "DELETE /rpc/get_parents_below",
			status: 405, want: h("Content-Type: " + ctJSON),
			json: `{"code":"PGRST101","details":null,"hint":null,"message":"Cannot use the DELETE method on RPC"}`},
		// upstream case 1007 (url_grammar/method/rpc-invalid)
		{id: "1007", feature: "url_grammar/method/rpc-invalid", schema: "v1", req: "PATCH /rpc/get_parents_below", status: 405},
		// upstream case 1009 (url_grammar/profile/accept-profile)
		{id: "1009", feature: "url_grammar/profile/accept-profile", schema: "v2", req: "GET /parents",
			status: 200, want: h("Content-Type: "+ctJSON, "Content-Profile: v2"),
			json: `[{"id":3,"name":"parent v2-3"},{"id":4,"name":"parent v2-4"}]`},
		// upstream case 1010 (url_grammar/profile/unacceptable)
		{id: "1010", feature: "url_grammar/profile/unacceptable", schema: "unknown", req: "GET /parents",
			status: 406, fields: `{"code":"PGRST106","message":"Invalid schema: unknown","details":null}`},
		// upstream case 1011 (url_grammar/profile/content-profile)
		{id: "1011", feature: "url_grammar/profile/content-profile", schema: "v2", req: "POST /children?select=id,parent(*)",
			hdr: h("Prefer: return=representation"), body: `{"id":0,"name":"child v2-3","parent_id":3}`,
			status: 201, want: h("Content-Profile: v2"), json: `[{"id":0,"parent":{"id":3,"name":"parent v2-3"}}]`},
		// upstream case 1012 (url_grammar/profile/unacceptable)
		{id: "1012", feature: "url_grammar/profile/unacceptable", schema: "unknown", req: "POST /children",
			body:   `{"name":"child 4","parent_id":4}`,
			status: 406, fields: `{"code":"PGRST106","message":"Invalid schema: unknown"}`},
		// upstream case 1013 (url_grammar/reserved-params/select)
		{id: "1013", feature: "url_grammar/reserved-params/select", schema: "v1", req: "GET /parents?select=id&id=eq.1",
			status: 200, want: h("Content-Type: " + ctJSON), json: `[{"id":1}]`},
		// upstream case 1014 (url_grammar/reserved-params/order)
		{id: "1014", feature: "url_grammar/reserved-params/order", schema: "v1", req: "GET /parents?order=id.desc",
			status: 200, json: `[{"id":2,"name":"parent v1-2"},{"id":1,"name":"parent v1-1"}]`},
		// upstream case 1015 (url_grammar/reserved-params/limit-offset)
		{id: "1015", feature: "url_grammar/reserved-params/limit-offset", req: "GET /items?order=id.asc&limit=2&offset=1",
			status: 200, want: h("Content-Type: " + ctJSON), json: `[{"id":2},{"id":3}]`},
		// upstream case 1016 (url_grammar/reserved-params/put-limit-forbidden)
		{id: "1016", feature: "url_grammar/reserved-params/put-limit-forbidden", req: "PUT /tiobe_pls?name=eq.Javascript&limit=1",
			body: `[{"name":"Javascript","rank":1}]`, status: 400, want: h("Content-Type: " + ctJSON),
			json: `{"code":"PGRST114","details":null,"hint":null,"message":"limit/offset querystring parameters are not allowed for PUT"}`},
		// upstream case 1017 (url_grammar/percent-encoding/query-value-space)
		{id: "1017", feature: "url_grammar/percent-encoding/query-value-space", schema: "v1", req: "GET /parents?name=eq.parent%20v1-1",
			status: 200, json: `[{"id":1,"name":"parent v1-1"}]`},
		// upstream case 1018 (url_grammar/percent-encoding/plus-is-space)
		{id: "1018", feature: "url_grammar/percent-encoding/plus-is-space", schema: "v1", req: "GET /parents?name=eq.parent+v1-1",
			status: 200, json: `[{"id":1,"name":"parent v1-1"}]`},
		// upstream case 1020 (url_grammar/method/head)
		{id: "1020", feature: "url_grammar/method/head", req: "HEAD /items?id=eq.5",
			status: 200, want: h("Content-Type: " + ctJSON), raw: str("")},
		// upstream case 1022 (url_grammar/path/root)
		{id: "1022", feature: "url_grammar/path/root", req: "GET /", hdr: h("Accept: application/openapi+json"),
			status: 200, want: h("Content-Type: application/openapi+json; charset=utf-8")},
		// upstream case 1019 (url_grammar/method/options)
		{id: "1019", feature: "url_grammar/method/options", req: "OPTIONS /items",
			status: 200, want: h("Allow: OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE", "Content-Length: 0")},
		// upstream case 1023 (url_grammar/path/rpc-profile)
		{id: "1023", feature: "url_grammar/path/rpc-profile", schema: "v2", req: "GET /rpc/get_parents_below?id=6&select=id,name,children(id,name)",
			status: 200, want: h("Content-Type: "+ctJSON, "Content-Profile: v2"),
			json: `[{"id":3,"name":"parent v2-3","children":[{"id":1,"name":"child v2-3"}]},{"id":4,"name":"parent v2-4","children":[]}]`},
		// upstream case 1024 (url_grammar/path/relation-not-found)
		{id: "1024", feature: "url_grammar/path/relation-not-found", schema: "v1", req: "GET /another_table",
			status: 404, json: `{"code":"PGRST205","details":null,"hint":null,"message":"Could not find the table 'v1.another_table' in the schema cache"}`},
		// upstream case 1025 (url_grammar/reserved-characters/quoted-in-values)
		{id: "1025", feature: "url_grammar/reserved-characters/quoted-in-values",
			req:    "GET /w_or_wo_comma_names?name=in.(%22Hebdon,%20John%22,%22Williams,%20Mary%22,%22Smith,%20Joseph%22)",
			status: 200, json: `[{"name":"Hebdon, John"},{"name":"Williams, Mary"},{"name":"Smith, Joseph"}]`},
		// upstream case 1026 (url_grammar/reserved-characters/mixed-quoted-in-values)
		{id: "1026", feature: "url_grammar/reserved-characters/mixed-quoted-in-values",
			req:    "GET /w_or_wo_comma_names?name=in.(David%20White,%22Hebdon,%20John%22)",
			status: 200, json: `[{"name":"Hebdon, John"},{"name":"David White"}]`},
		// upstream case 1027 (url_grammar/reserved-characters/quoted-not-in-values)
		{id: "1027", feature: "url_grammar/reserved-characters/quoted-not-in-values",
			req:    "GET /w_or_wo_comma_names?name=not.in.(%22Hebdon,%20John%22,%22Williams,%20Mary%22,%22Smith,%20Joseph%22)&limit=3",
			status: 200, json: `[{"name":"David White"},{"name":"Larry Thompson"},{"name":"Double O Seven(007)"}]`},
		// upstream case 1028 (url_grammar/reserved-params/legacy-embed-target-name;
		// upstream asserts a Warning header too, which Grove does not send)
		{id: "1028", feature: "url_grammar/reserved-params/legacy-embed-target-name",
			req:    "GET /projects?id=eq.1&select=id,name,the_tasks:tasks(id,name)&tasks.name=like.Code*&tasks.order=name.asc&tasks.limit=1",
			status: 200, json: `[{"id":1,"name":"Windows 7","the_tasks":[{"id":2,"name":"Code w7"}]}]`},
		// upstream case 1029 (url_grammar/reserved-characters/quoted-identifier)
		{id: "1029", feature: "url_grammar/reserved-characters/quoted-identifier",
			req:    "GET /pgrst_reserved_chars?select=%22:arr-%3Eow::cast%22,%22(inside,parens)%22,%22a.dotted.column%22,%22%20%20col%20%20w%20%20space%20%20%22&%22*id*%22=eq.1",
			status: 200, json: `[{":arr->ow::cast":" arrow-1 ","(inside,parens)":" parens-1 ","a.dotted.column":" dotted-1 ","  col  w  space  ":" space-1"}]`},
		// upstream case 1030 (url_grammar/reserved-params/put-offset-forbidden)
		{id: "1030", feature: "url_grammar/reserved-params/put-offset-forbidden", req: "PUT /tiobe_pls?name=eq.Javascript&offset=1",
			body: `[{"name":"Javascript","rank":1}]`, status: 400,
			json: `{"code":"PGRST114","details":null,"hint":null,"message":"limit/offset querystring parameters are not allowed for PUT"}`},
		// upstream case 1034 (url_grammar/path/relation-not-found)
		{id: "1034", feature: "url_grammar/path/relation-not-found", req: "OPTIONS /unknown", status: 404},
		// upstream case 1035 (url_grammar/percent-encoding/space-in-identifier)
		{id: "1035", feature: "url_grammar/percent-encoding/space-in-identifier",
			req:    "GET /Server%20Today?select=Just%20A%20Server%20Model&Just%20A%20Server%20Model=like.*91*",
			status: 200, json: `[{"Just A Server Model":" IBM,9113-550 (P5-550)"},{"Just A Server Model":" IBM,9113-550 (P5-550)"},{"Just A Server Model":" IBM,9131-52A (P5-52A)"},{"Just A Server Model":" IBM,9133-55A (P5-55A)"}]`},
	}
}
