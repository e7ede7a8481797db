package dataapi_test

// How a failure becomes a status and a body: the SQLSTATE map, RAISE
// 'PTnnn' and RAISE 'PGRST', and PostgREST's own codes, ported from
// PostgREST's errors area.
func init() {
	const pgrst121 = `Could not parse JSON in the \"RAISE SQLSTATE 'PGRST'\" error`
	confAreas["errors"] = []confCase{
		// upstream case 1500 (errors/sqlstate/unique_violation)
		{id: "1500", feature: "errors/sqlstate/unique_violation", req: "POST /simple_pk", body: `{"k":"xyyx","extra":"v"}`,
			status: 409, want: h("Content-Type: " + ctJSON),
			json: `{"code":"23505","details":"Key (k)=(xyyx) already exists.","hint":null,"message":"duplicate key value violates unique constraint \"simple_pk_pkey\""}`},
		// upstream case 1501 (errors/sqlstate/foreign_key_violation)
		{id: "1501", feature: "errors/sqlstate/foreign_key_violation", req: "POST /fk_child", body: `{"id":1,"parent_id":99}`,
			status: 409, json: `{"code":"23503","details":"Key (parent_id)=(99) is not present in table \"fk_parent\".","hint":null,"message":"insert or update on table \"fk_child\" violates foreign key constraint \"fk_child_parent_id_fkey\""}`},
		// upstream case 1502 (errors/sqlstate/raise)
		{id: "1502", feature: "errors/sqlstate/raise", req: "POST /rpc/problem",
			status: 400, json: `{"code":"P0001","details":null,"hint":null,"message":"bad thing"}`},
		// upstream case 1503 (errors/sqlstate/assert_failure)
		{id: "1503", feature: "errors/sqlstate/assert_failure", req: "POST /rpc/assert",
			status: 500, json: `{"code":"P0004","details":null,"hint":null,"message":"bad thing"}`},
		// upstream case 1504 (errors/sqlstate/cardinality_violation)
		{id: "1504", feature: "errors/sqlstate/cardinality_violation", req: "GET /bad_subquery",
			status: 500, json: `{"code":"21000","details":null,"hint":null,"message":"more than one row returned by a subquery used as an expression"}`},
		// upstream case 1505 (errors/raise/pt_status)
		{id: "1505", feature: "errors/raise/pt_status", req: "POST /rpc/raise_pt402",
			status: 402, json: `{"code":"PT402","details":"Quota exceeded","hint":"Upgrade your plan","message":"Payment Required"}`},
		// upstream case 1506 (errors/headers/proxy_status_pt)
		{id: "1506", feature: "errors/headers/proxy_status_pt", req: "POST /rpc/raise_pt402",
			status: 402, want: h("Proxy-Status: PostgREST; error=PT402")},
		// upstream case 1507 (errors/raise/pt_non_numeric)
		{id: "1507", feature: "errors/raise/pt_non_numeric", req: "POST /rpc/raise_bad_pt",
			status: 500, json: `{"code":"PT40A","details":null,"hint":null,"message":"Wrong"}`},
		// upstream case 1508 (errors/raise/pgrst_full)
		{id: "1508", feature: "errors/raise/pgrst_full", req: "POST /rpc/raise_sqlstate_test1",
			status: 332, want: h("X-Header: str"), json: `{"code":"123","details":"DEF","hint":"XYZ","message":"ABC"}`},
		// upstream case 1509 (errors/raise/pgrst_minimal_message)
		{id: "1509", feature: "errors/raise/pgrst_minimal_message", req: "POST /rpc/raise_sqlstate_test2",
			status: 332, want: h("X-Header: str"), json: `{"code":"123","details":null,"hint":null,"message":"ABC"}`},
		// upstream case 1510 (errors/raise/pgrst_status_404)
		{id: "1510", feature: "errors/raise/pgrst_status_404", req: "POST /rpc/raise_sqlstate_test3",
			status: 404, want: h("X-Header: str"), json: `{"code":"123","details":null,"hint":null,"message":"ABC"}`},
		// upstream case 1512 (errors/raise/pgrst_invalid_message)
		{id: "1512", feature: "errors/raise/pgrst_invalid_message", req: "POST /rpc/raise_sqlstate_invalid_json_message",
			status: 500, json: `{"code":"PGRST121","details":"Invalid JSON value for MESSAGE: 'INVALID'","hint":"MESSAGE must be a JSON object with obligatory keys: 'code', 'message' and optional keys: 'details', 'hint'.","message":"` + pgrst121 + `"}`},
		// upstream case 1513 (errors/raise/pgrst_invalid_detail)
		{id: "1513", feature: "errors/raise/pgrst_invalid_detail", req: "POST /rpc/raise_sqlstate_invalid_json_details",
			status: 500, json: `{"code":"PGRST121","details":"Invalid JSON value for DETAIL: 'INVALID'","hint":"DETAIL must be a JSON object with obligatory keys: 'status', 'headers' and optional key: 'status_text'.","message":"` + pgrst121 + `"}`},
		// upstream case 1514 (errors/raise/pgrst_missing_detail)
		{id: "1514", feature: "errors/raise/pgrst_missing_detail", req: "POST /rpc/raise_sqlstate_missing_details",
			status: 500, json: `{"code":"PGRST121","details":"DETAIL is missing in the RAISE statement","hint":"DETAIL must be a JSON object with obligatory keys: 'status', 'headers' and optional key: 'status_text'.","message":"` + pgrst121 + `"}`},
		// upstream case 1515 (errors/pgrst_code/envelope)
		{id: "1515", feature: "errors/pgrst_code/envelope", req: "GET /first/second",
			status: 404, want: h("Content-Type: "+ctJSON, "Proxy-Status: PostgREST; error=PGRST125"),
			json: `{"code":"PGRST125","details":null,"hint":null,"message":"Invalid path specified in request URL"}`},
		// upstream case 1520 (errors/pgrst_code/table_not_found_hint)
		{id: "1520", feature: "errors/pgrst_code/table_not_found_hint", req: "GET /simple_pkk",
			status: 404, json: `{"code":"PGRST205","details":null,"hint":"Perhaps you meant the table 'test.simple_pk'","message":"Could not find the table 'test.simple_pkk' in the schema cache"}`},
		// upstream case 1521 (errors/pgrst_code/table_not_found_no_hint)
		{id: "1521", feature: "errors/pgrst_code/table_not_found_no_hint", req: "GET /zzzzzz",
			status: 404, json: `{"code":"PGRST205","details":null,"hint":null,"message":"Could not find the table 'test.zzzzzz' in the schema cache"}`},
		// upstream case 1523 (errors/sqlstate/program_limit)
		{id: "1523", feature: "errors/sqlstate/program_limit", req: "GET /rpc/infinite_recursion?n=1",
			status: 500, fields: `{"code":"54001","message":"stack depth limit exceeded"}`},
		// upstream case 1525 (errors/envelope/key_order)
		{id: "1525", feature: "errors/envelope/key_order", req: "POST /rpc/problem",
			status: 400, raw: str(`{"code":"P0001","details":null,"hint":null,"message":"bad thing"}`)},
		// upstream case 1526 (errors/proxy_status/inline_416)
		{id: "1526", feature: "errors/proxy_status/inline_416", req: "GET /projects?offset=100",
			hdr: h("Prefer: count=exact"), status: 416, want: h("Proxy-Status: ", "Content-Range: */5"),
			json: `{"code":"PGRST103","details":"An offset of 100 was requested, but there are only 5 rows.","hint":null,"message":"Requested range not satisfiable"}`},
		// upstream case 1530 (errors/pgrst_code/embed_child_hint)
		{id: "1530", feature: "errors/pgrst_code/embed_child_hint", req: "GET /projects?select=*,clientz(*)",
			status: 400, json: `{"code":"PGRST200","details":"Searched for a foreign key relationship between 'projects' and 'clientz' in the schema 'test', but no matches were found.","hint":"Perhaps you meant 'clients' instead of 'clientz'.","message":"Could not find a relationship between 'projects' and 'clientz' in the schema cache"}`},
	}
}
