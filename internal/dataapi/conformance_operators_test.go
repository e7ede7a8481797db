package dataapi_test

// Filter operators, ported from PostgREST's cases of the operators area.
func init() {
	const s = "operators"
	confAreas["operators"] = []confCase{
		// upstream case 1050 (operators/eq)
		{id: 1050, feature: "operators/eq", schema: s, req: "GET /items?id=eq.5",
			status: 200, want: h("Content-Type: " + ctJSON), json: `[{"id":5}]`},
		// upstream case 1051 (operators/not/eq)
		{id: 1051, feature: "operators/not/eq", schema: s, req: "GET /items?id=not.eq.5&order=id",
			status: 200, want: h("Content-Range: 0-13/*"),
			json: `[{"id":1},{"id":2},{"id":3},{"id":4},{"id":6},{"id":7},{"id":8},{"id":9},{"id":10},{"id":11},{"id":12},{"id":13},{"id":14},{"id":15}]`},
		// upstream case 1052 (operators/not/lt)
		{id: 1052, feature: "operators/not/lt", schema: s, req: "GET /items?id=not.lt.14&order=id.asc",
			status: 200, want: h("Content-Range: 0-1/*"), json: `[{"id":14},{"id":15}]`},
		// upstream case 1053 (operators/in)
		{id: 1053, feature: "operators/in", schema: s, req: "GET /items?id=in.(1,3,5)",
			status: 200, want: h("Content-Range: 0-2/*"), json: `[{"id":1},{"id":3},{"id":5}]`},
		// upstream case 1054 (operators/not/in)
		{id: 1054, feature: "operators/not/in", schema: s, req: "GET /items?id=not.in.(2,4,6,7,8,9,10,11,12,13,14,15)",
			status: 200, want: h("Content-Range: 0-2/*"), json: `[{"id":1},{"id":3},{"id":5}]`},
		// upstream case 1055 (operators/is/null)
		{id: 1055, feature: "operators/is/null", schema: s, req: "GET /no_pk?a=is.null",
			status: 200, want: h("Content-Type: " + ctJSON), json: `[{"a":null,"b":null}]`},
		// upstream case 1056 (operators/is/not_null)
		{id: 1056, feature: "operators/is/not_null", schema: s, req: "GET /no_pk?a=is.not_null",
			status: 200, json: `[{"a":"1","b":"0"},{"a":"2","b":"0"}]`},
		// upstream case 1057 (operators/is/trilean)
		{id: 1057, feature: "operators/is/trilean", schema: s, req: "GET /chores?done=is.unknown",
			status: 200, json: `[{"id":3,"name":"wash the dishes","done":null}]`},
		// upstream case 1058 (operators/is/case_insensitive)
		{id: 1058, feature: "operators/is/case_insensitive", schema: s, req: "GET /chores?done=is.NoT_NuLl",
			status: 200, json: `[{"id":1,"name":"take out the garbage","done":true},{"id":2,"name":"do the laundry","done":false}]`},
		// upstream case 1059 (operators/is/invalid_value)
		{id: 1059, feature: "operators/is/invalid_value", schema: s, req: "GET /chores?done=is.nil", status: 400},
		// upstream case 1060 (operators/like)
		{id: 1060, feature: "operators/like", schema: s, req: "GET /simple_pk?k=like.*yx",
			status: 200, json: `[{"k":"xyyx","extra":"u"}]`},
		// upstream case 1061 (operators/not/like)
		{id: 1061, feature: "operators/not/like", schema: s, req: "GET /simple_pk?k=not.like.*yx",
			status: 200, json: `[{"k":"xYYx","extra":"v"}]`},
		// upstream case 1062 (operators/ilike)
		{id: 1062, feature: "operators/ilike", schema: s, req: "GET /simple_pk?k=ilike.xy*&order=extra.asc",
			status: 200, json: `[{"k":"xyyx","extra":"u"},{"k":"xYYx","extra":"v"}]`},
		// upstream case 1063 (operators/match)
		{id: 1063, feature: "operators/match", schema: s, req: "GET /simple_pk?k=match.^xy",
			status: 200, json: `[{"k":"xyyx","extra":"u"}]`},
		// upstream case 1064 (operators/imatch)
		{id: 1064, feature: "operators/imatch", schema: s, req: "GET /simple_pk?k=imatch.^xy&order=extra.asc",
			status: 200, json: `[{"k":"xyyx","extra":"u"},{"k":"xYYx","extra":"v"}]`},
		// upstream case 1065 (operators/isdistinct)
		{id: 1065, feature: "operators/isdistinct", schema: s, req: "GET /no_pk?select=a&a=isdistinct.2",
			status: 200, json: `[{"a":null},{"a":"1"}]`},
		// upstream case 1066 (operators/not/isdistinct)
		{id: 1066, feature: "operators/not/isdistinct", schema: s, req: "GET /no_pk?select=a&a=not.isdistinct.2",
			status: 200, json: `[{"a":"2"}]`},
		// upstream case 1067 (operators/fts)
		{id: 1067, feature: "operators/fts", schema: s, req: "GET /tsearch?text_search_vector=fts.impossible",
			status: 200, json: `[{"text_search_vector":"'fun':5 'imposs':9 'kind':3"}]`},
		// upstream case 1068 (operators/plfts)
		{id: 1068, feature: "operators/plfts", schema: s, req: "GET /tsearch?text_search_vector=plfts.The%20Fat%20Rats",
			status: 200, json: `[{"text_search_vector":"'ate':3 'cat':2 'fat':1 'rat':4"}]`},
		// upstream case 1069 (operators/wfts)
		{id: 1069, feature: "operators/wfts", schema: s, req: "GET /tsearch?text_search_vector=wfts.The%20Fat%20Rats",
			status: 200, json: `[{"text_search_vector":"'ate':3 'cat':2 'fat':1 'rat':4"}]`},
		// upstream case 1070 (operators/phfts)
		{id: 1070, feature: "operators/phfts", schema: s, req: "GET /tsearch?text_search_vector=phfts.The%20Fat%20Cats",
			status: 200, json: `[{"text_search_vector":"'ate':3 'cat':2 'fat':1 'rat':4"}]`},
		//CONTINUE
	}
}
