package dataapi_test

// Functions under /rpc: how arguments arrive, what each kind of return
// answers with, and the errors, ported from PostgREST's rpc area. Entries
// the upstream model states without naming a case are named by the
// model's entry id (rpc.…).
func init() {
	const s = "rpc"
	confAreas["rpc"] = []confCase{
		// upstream case 1402 (rpc/args/named)
		{id: "1402", feature: "rpc/args/named", schema: s, req: "GET /rpc/add_them?a=3&b=4",
			status: 200, want: h("Content-Type: " + ctJSON), raw: str("7")},
		// upstream case 1403 (rpc/count/scalar)
		{id: "1403", feature: "rpc/count/scalar", schema: s, req: "GET /rpc/add_them?a=3&b=4",
			hdr: h("Prefer: count=exact"), status: 200, want: h("Content-Range: 0-0/1"), raw: str("7")},
		// upstream behaviour rpc.args.post_json_body
		{id: "rpc.args.post_json_body", feature: "rpc/args/post", schema: s, req: "POST /rpc/add_them",
			body: `{"a":3,"b":4}`, status: 200, raw: str("7")},
		// upstream behaviour rpc.args.post_first_object_only
		{id: "rpc.args.post_first_object_only", feature: "rpc/args/post-array", schema: s, req: "POST /rpc/add_them",
			body: `[{"a":1,"b":2},{"a":4,"b":6}]`, status: 200, raw: str("3")},
		// upstream behaviour rpc.args.defaults
		{id: "rpc.args.defaults", feature: "rpc/args/defaults", schema: s, req: "GET /rpc/three_defaults?b=4",
			status: 200, raw: str("8")},
		// upstream behaviour rpc.args.noparams (GET)
		{id: "rpc.args.noparams.get", feature: "rpc/args/noparams", schema: s, req: "GET /rpc/noparamsproc",
			status: 200, json: `"Return value of no parameters procedure."`},
		// upstream behaviour rpc.args.noparams (POST, empty body)
		{id: "rpc.args.noparams.post", feature: "rpc/args/noparams", schema: s, req: "POST /rpc/noparamsproc",
			status: 200, json: `"Return value of no parameters procedure."`},
		// upstream behaviour rpc.args.variadic.post_array
		{id: "rpc.args.variadic.post_array", feature: "rpc/args/variadic", schema: s, req: "POST /rpc/variadic_param",
			body: `{"v":["hi","hello","there"]}`, status: 200, json: `["hi","hello","there"]`},
		// upstream behaviour rpc.args.variadic.get_repeated
		{id: "rpc.args.variadic.get_repeated", feature: "rpc/args/variadic", schema: s, req: "GET /rpc/variadic_param?v=hi&v=there",
			status: 200, json: `["hi","there"]`},
		// upstream behaviour rpc.args.variadic.get_repeated (none: the default)
		{id: "rpc.args.variadic.get_default", feature: "rpc/args/variadic", schema: s, req: "GET /rpc/variadic_param",
			status: 200, json: `[]`},
		// upstream case 1442 (rpc/args/form-urlencoded-variadic)
		{id: "1442", feature: "rpc/args/form-urlencoded-variadic", schema: s, req: "POST /rpc/variadic_param",
			hdr: h("Content-Type: application/x-www-form-urlencoded"), body: "v=hi&v=there", status: 200, json: `["hi","there"]`},
		// upstream behaviour rpc.args.repeated_non_variadic
		{id: "rpc.args.repeated_non_variadic", feature: "rpc/args/repeated", schema: s, req: "GET /rpc/sayhello?name=ignored&name=world",
			status: 200, json: `"Hello, world"`},
		// upstream behaviour rpc.return.text
		{id: "rpc.return.text", feature: "rpc/return/text", schema: s, req: "POST /rpc/sayhello",
			body: `{"name":"world"}`, status: 200, json: `"Hello, world"`},
		// upstream behaviour rpc.return.array
		{id: "rpc.return.array", feature: "rpc/return/array", schema: s, req: "GET /rpc/ret_array",
			status: 200, json: `[1,2,3]`},
		// upstream behaviour rpc.return.setof_scalar
		{id: "rpc.return.setof_scalar", feature: "rpc/return/setof-scalar", schema: s, req: "GET /rpc/ret_setof_integers",
			status: 200, json: `[1,2,3]`},
		// upstream behaviour rpc.return.setof_table
		{id: "rpc.return.setof_table", feature: "rpc/return/setof-table", schema: s, req: "GET /rpc/getitemrange?min=2&max=4",
			status: 200, json: `[{"id":3},{"id":4}]`},
		// upstream behaviour rpc.return.empty_rowset
		{id: "rpc.return.empty_rowset", feature: "rpc/return/empty", schema: s, req: "GET /rpc/getitemrange?min=20&max=30",
			status: 200, json: `[]`},
		// upstream behaviour rpc.return.composite
		{id: "rpc.return.composite", feature: "rpc/return/composite", schema: s, req: "GET /rpc/ret_point_2d",
			status: 200, json: `{"x":10,"y":5}`},
		// upstream behaviour rpc.return.void
		{id: "rpc.return.void", feature: "rpc/return/void", schema: s, req: "POST /rpc/ret_void",
			status: 204, want: h("Content-Type: "), raw: str("")},
		// upstream behaviour rpc.return.out_single
		{id: "rpc.return.out_single", feature: "rpc/return/out", schema: s, req: "GET /rpc/single_out_param?num=5",
			status: 200, json: `{"num_plus_one":6}`},
		// upstream behaviour rpc.return.inout_single
		{id: "rpc.return.inout_single", feature: "rpc/return/inout", schema: s, req: "GET /rpc/single_inout_param?num=2",
			status: 200, json: `{"num":3}`},
		// upstream behaviour rpc.return.out_many
		{id: "rpc.return.out_many", feature: "rpc/return/out-many", schema: s, req: "GET /rpc/many_out_params",
			status: 200, json: `{"my_json":{"a":1,"b":"two"},"num":3,"str":"four"}`},
		// upstream behaviour rpc.return.table_single_col
		{id: "rpc.return.table_single_col", feature: "rpc/return/table", schema: s, req: "GET /rpc/single_column_table_return",
			status: 200, json: `[{"a":"A"}]`},
		// upstream behaviour rpc.return.table_multi_col
		{id: "rpc.return.table_multi_col", feature: "rpc/return/table", schema: s, req: "GET /rpc/multi_column_table_return",
			status: 200, json: `[{"a":"A","b":"B"}]`},
		// upstream behaviour rpc.shape.select
		{id: "rpc.shape.select", feature: "rpc/shape/select", schema: s, req: "GET /rpc/getproject?id=1&select=id,name",
			status: 200, json: `[{"id":1,"name":"Windows 7"}]`},
		// upstream behaviour rpc.shape.filter
		{id: "rpc.shape.filter", feature: "rpc/shape/filter", schema: s, req: "GET /rpc/getallprojects?id=gt.1&id=lt.5&select=id",
			status: 200, json: `[{"id":2},{"id":3},{"id":4}]`},
		// upstream behaviour rpc.shape.limit
		{id: "rpc.shape.limit", feature: "rpc/shape/limit", schema: s, req: "GET /rpc/getallprojects?order=id&limit=2&offset=1&select=id",
			status: 200, want: h("Content-Range: 1-2/*"), json: `[{"id":2},{"id":3}]`},
		// upstream behaviour rpc.setof.range_header
		{id: "rpc.setof.range_header", feature: "rpc/setof/range", schema: s, req: "GET /rpc/getitemrange?min=2&max=4",
			hdr: h("Range-Unit: items", "Range: 1-1"), status: 200, want: h("Content-Range: 1-1/*"), json: `[{"id":4}]`},
		// upstream behaviour rpc.count.exact_setof
		{id: "rpc.count.exact_setof", feature: "rpc/count/exact", schema: s, req: "HEAD /rpc/getallprojects",
			hdr: h("Prefer: count=exact"), status: 200, want: h("Content-Range: 0-4/5"), raw: str("")},
		// upstream behaviour rpc.csv
		{id: "rpc.csv", feature: "rpc/csv", schema: s, req: "GET /rpc/getallprojects?id=lt.3&select=id,client_id",
			hdr: h("Accept: text/csv"), status: 200, want: h("Content-Type: text/csv; charset=utf-8"),
			raw: str("id,client_id\n1,1\n2,1")},
		// upstream case 1432 (rpc/error/unknown-proc)
		{id: "1432", feature: "rpc/error/unknown-proc", schema: s, req: "GET /rpc/fake", status: 404},
		// upstream case 1443 (rpc/error/closest-proc-hint)
		{id: "1443", feature: "rpc/error/closest-proc-hint", schema: s, req: "GET /rpc/sayhell",
			status: 404, json: `{"code":"PGRST202","details":"Searched for the function rpc.sayhell without parameters, but no matches were found in the schema cache.","hint":"Perhaps you meant to call the function rpc.sayhello","message":"Could not find the function rpc.sayhell without parameters in the schema cache"}`},
		// upstream behaviour rpc.notfound.unknown_args
		{id: "rpc.notfound.unknown_args", feature: "rpc/error/unknown-args", schema: s, req: "GET /rpc/add_them?a=1&b=2&smthelse=blabla",
			status: 404, fields: `{"code":"PGRST202"}`},
		// upstream behaviour rpc.overloaded.no_args
		{id: "rpc.overloaded.no_args", feature: "rpc/overloaded", schema: s, req: "GET /rpc/overloaded",
			status: 200, json: `[1,2,3]`},
		// upstream behaviour rpc.overloaded.two_int_args
		{id: "rpc.overloaded.two_int_args", feature: "rpc/overloaded", schema: s, req: "GET /rpc/overloaded?a=1&b=2",
			status: 200, raw: str("3")},
		// upstream behaviour rpc.overloaded.three_text_args
		{id: "rpc.overloaded.three_text_args", feature: "rpc/overloaded", schema: s, req: "GET /rpc/overloaded?a=1&b=2&c=3",
			status: 200, json: `"123"`},
		// upstream behaviour rpc.single_unnamed_param.json_post
		{id: "rpc.single_unnamed_param.json_post", feature: "rpc/single-unnamed-param", schema: s, req: "POST /rpc/unnamed_json_param",
			body: `{"A":1,"B":2,"C":3}`, status: 200, json: `{"A":1,"B":2,"C":3}`},
		// upstream case 1439 (rpc/single-unnamed-param/named-rejects-body)
		{id: "1439", feature: "rpc/single-unnamed-param/named-rejects-body", schema: s, req: "POST /rpc/named_json_param",
			body: `{"A":1,"B":2,"C":3}`, status: 404, fields: `{"code":"PGRST202","message":"Could not find the function rpc.named_json_param(A, B, C) in the schema cache"}`},
		// upstream case 1440 (rpc/name/reserved-word)
		{id: "1440", feature: "rpc/name/reserved-word", schema: s, req: "GET /rpc/true", status: 200, raw: str("true")},
		// upstream case 1441 (rpc/prefer/max-affected-single)
		{id: "1441", feature: "rpc/prefer/max-affected-single", schema: s, req: "POST /rpc/delete_items_returns_void",
			hdr: h("Prefer: handling=strict, max-affected=1"), status: 400,
			json: `{"code":"PGRST128","details":null,"hint":null,"message":"Function must return SETOF or TABLE when max-affected preference is used with handling=strict"}`},
		// upstream behaviour rpc.method.head_is_read
		{id: "rpc.method.head_is_read", feature: "rpc/method/head", schema: s, req: "HEAD /rpc/getitemrange?min=2&max=4",
			status: 200, want: h("Content-Type: " + ctJSON), raw: str("")},
		// upstream behaviour rpc.method.unsupported
		{id: "rpc.method.unsupported", feature: "rpc/method/unsupported", schema: s, req: "PUT /rpc/add_them", body: `{"a":1,"b":2}`,
			status: 405, json: `{"code":"PGRST101","details":null,"hint":null,"message":"Cannot use the PUT method on RPC"}`},
		// upstream behaviour rpc.get.volatile_rejected
		{id: "rpc.get.volatile_rejected", feature: "rpc/get/volatile-write", schema: s, req: "GET /rpc/add_item?id=100",
			status: 405, fields: `{"code":"25006","message":"cannot execute INSERT in a read-only transaction"}`},
		// upstream behaviour rpc.method.get_is_read (a volatile function that only reads)
		{id: "rpc.method.get_is_read", feature: "rpc/get/volatile-read", schema: s, req: "GET /rpc/volatile_reader",
			status: 200, raw: str("15")},
		// upstream behaviour rpc.method.post_is_invoke
		{id: "rpc.method.post_is_invoke", feature: "rpc/post/volatile-write", schema: s, req: "POST /rpc/add_item",
			body: `{"id":100}`, status: 200, json: `[{"id":100}]`},
	}
}
