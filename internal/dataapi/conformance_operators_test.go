package dataapi_test

// Filter operators, ported from PostgREST's cases of the operators area.
func init() {
	const s = "operators"
	confAreas["operators"] = []confCase{
		// upstream case 1050 (operators/eq)
		{id: "1050", feature: "operators/eq", schema: s, req: "GET /items?id=eq.5",
			status: 200, want: h("Content-Type: " + ctJSON), json: `[{"id":5}]`},
		// upstream case 1051 (operators/not/eq)
		{id: "1051", feature: "operators/not/eq", schema: s, req: "GET /items?id=not.eq.5&order=id",
			status: 200, want: h("Content-Range: 0-13/*"),
			json: `[{"id":1},{"id":2},{"id":3},{"id":4},{"id":6},{"id":7},{"id":8},{"id":9},{"id":10},{"id":11},{"id":12},{"id":13},{"id":14},{"id":15}]`},
		// upstream case 1052 (operators/not/lt)
		{id: "1052", feature: "operators/not/lt", schema: s, req: "GET /items?id=not.lt.14&order=id.asc",
			status: 200, want: h("Content-Range: 0-1/*"), json: `[{"id":14},{"id":15}]`},
		// upstream case 1053 (operators/in)
		{id: "1053", feature: "operators/in", schema: s, req: "GET /items?id=in.(1,3,5)",
			status: 200, want: h("Content-Range: 0-2/*"), json: `[{"id":1},{"id":3},{"id":5}]`},
		// upstream case 1054 (operators/not/in)
		{id: "1054", feature: "operators/not/in", schema: s, req: "GET /items?id=not.in.(2,4,6,7,8,9,10,11,12,13,14,15)",
			status: 200, want: h("Content-Range: 0-2/*"), json: `[{"id":1},{"id":3},{"id":5}]`},
		// upstream case 1055 (operators/is/null)
		{id: "1055", feature: "operators/is/null", schema: s, req: "GET /no_pk?a=is.null",
			status: 200, want: h("Content-Type: " + ctJSON), json: `[{"a":null,"b":null}]`},
		// upstream case 1056 (operators/is/not_null)
		{id: "1056", feature: "operators/is/not_null", schema: s, req: "GET /no_pk?a=is.not_null",
			status: 200, json: `[{"a":"1","b":"0"},{"a":"2","b":"0"}]`},
		// upstream case 1057 (operators/is/trilean)
		{id: "1057", feature: "operators/is/trilean", schema: s, req: "GET /chores?done=is.unknown",
			status: 200, json: `[{"id":3,"name":"wash the dishes","done":null}]`},
		// upstream case 1058 (operators/is/case_insensitive)
		{id: "1058", feature: "operators/is/case_insensitive", schema: s, req: "GET /chores?done=is.NoT_NuLl",
			status: 200, json: `[{"id":1,"name":"take out the garbage","done":true},{"id":2,"name":"do the laundry","done":false}]`},
		// upstream case 1059 (operators/is/invalid_value)
		{id: "1059", feature: "operators/is/invalid_value", schema: s, req: "GET /chores?done=is.nil", status: 400},
		// upstream case 1060 (operators/like)
		{id: "1060", feature: "operators/like", schema: s, req: "GET /simple_pk?k=like.*yx",
			status: 200, json: `[{"k":"xyyx","extra":"u"}]`},
		// upstream case 1061 (operators/not/like)
		{id: "1061", feature: "operators/not/like", schema: s, req: "GET /simple_pk?k=not.like.*yx",
			status: 200, json: `[{"k":"xYYx","extra":"v"}]`},
		// upstream case 1062 (operators/ilike)
		{id: "1062", feature: "operators/ilike", schema: s, req: "GET /simple_pk?k=ilike.xy*&order=extra.asc",
			status: 200, json: `[{"k":"xyyx","extra":"u"},{"k":"xYYx","extra":"v"}]`},
		// upstream case 1063 (operators/match)
		{id: "1063", feature: "operators/match", schema: s, req: "GET /simple_pk?k=match.^xy",
			status: 200, json: `[{"k":"xyyx","extra":"u"}]`},
		// upstream case 1064 (operators/imatch)
		{id: "1064", feature: "operators/imatch", schema: s, req: "GET /simple_pk?k=imatch.^xy&order=extra.asc",
			status: 200, json: `[{"k":"xyyx","extra":"u"},{"k":"xYYx","extra":"v"}]`},
		// upstream case 1065 (operators/isdistinct)
		{id: "1065", feature: "operators/isdistinct", schema: s, req: "GET /no_pk?select=a&a=isdistinct.2",
			status: 200, json: `[{"a":null},{"a":"1"}]`},
		// upstream case 1066 (operators/not/isdistinct)
		{id: "1066", feature: "operators/not/isdistinct", schema: s, req: "GET /no_pk?select=a&a=not.isdistinct.2",
			status: 200, json: `[{"a":"2"}]`},
		// upstream case 1067 (operators/fts)
		{id: "1067", feature: "operators/fts", schema: s, req: "GET /tsearch?text_search_vector=fts.impossible",
			status: 200, json: `[{"text_search_vector":"'fun':5 'imposs':9 'kind':3"}]`},
		// upstream case 1068 (operators/plfts)
		{id: "1068", feature: "operators/plfts", schema: s, req: "GET /tsearch?text_search_vector=plfts.The%20Fat%20Rats",
			status: 200, json: `[{"text_search_vector":"'ate':3 'cat':2 'fat':1 'rat':4"}]`},
		// upstream case 1069 (operators/wfts)
		{id: "1069", feature: "operators/wfts", schema: s, req: "GET /tsearch?text_search_vector=wfts.The%20Fat%20Rats",
			status: 200, json: `[{"text_search_vector":"'ate':3 'cat':2 'fat':1 'rat':4"}]`},
		// upstream case 1070 (operators/phfts)
		{id: "1070", feature: "operators/phfts", schema: s, req: "GET /tsearch?text_search_vector=phfts.The%20Fat%20Cats",
			status: 200, json: `[{"text_search_vector":"'ate':3 'cat':2 'fat':1 'rat':4"}]`},
		// upstream case 1071 (operators/fts/language)
		{id: "1071", feature: "operators/fts/language", schema: s, req: "GET /tsearch?text_search_vector=fts(french).amusant",
			status: 200, json: `[{"text_search_vector":"'amus':5 'fair':7 'impossibl':9 'peu':4"}]`},
		// upstream case 1072 (operators/cs/array)
		{id: "1072", feature: "operators/cs/array", schema: s, req: "GET /complex_items?select=id&arr_data=cs.{2}",
			status: 200, json: `[{"id":2},{"id":3}]`},
		// upstream case 1073 (operators/cd/array)
		{id: "1073", feature: "operators/cd/array", schema: s, req: "GET /complex_items?select=id&arr_data=cd.{1,2,4}",
			status: 200, json: `[{"id":1},{"id":2}]`},
		// upstream case 1074 (operators/ov/range)
		{id: "1074", feature: "operators/ov/range", schema: s, req: "GET /ranges?range=ov.[0,4]&select=id",
			status: 200, json: `[{"id":1},{"id":2}]`},
		// upstream case 1075 (operators/sl/range)
		{id: "1075", feature: "operators/sl/range", schema: s, req: "GET /ranges?range=sl.[9,10]&select=id",
			status: 200, json: `[{"id":1},{"id":2}]`},
		// upstream case 1076 (operators/sr/range)
		{id: "1076", feature: "operators/sr/range", schema: s, req: "GET /ranges?range=sr.[3,4]&select=id",
			status: 200, json: `[{"id":3},{"id":4}]`},
		// upstream case 10200 (operators/in/empty_set)
		{id: "10200", feature: "operators/in/empty_set", schema: s, req: "GET /items_with_different_col_types?int_data=in.()",
			status: 200, want: h("Content-Type: " + ctJSON), json: `[]`},
		// upstream case 10201 (operators/in/empty_set)
		{id: "10201", feature: "operators/in/empty_set", schema: s, req: "GET /items_with_different_col_types?text_data=in.()",
			status: 200, json: `[]`},
		// upstream case 10202 (operators/in/empty_set)
		{id: "10202", feature: "operators/in/empty_set", schema: s, req: "GET /items_with_different_col_types?bool_data=in.()",
			status: 200, json: `[]`},
		// upstream case 10203 (operators/not/in/empty_set)
		{id: "10203", feature: "operators/not/in/empty_set", schema: s, req: "GET /items_with_different_col_types?int_data=not.in.()&select=int_data",
			status: 200, json: `[{"int_data":1}]`},
		// upstream case 10204 (operators/in/empty_set)
		{id: "10204", feature: "operators/in/empty_set", schema: s, req: "GET /items_with_different_col_types?int_data=in.(%20%20%20%20)",
			status: 200, json: `[]`},
		// upstream case 10205 (operators/in/blank_element_error)
		{id: "10205", feature: "operators/in/blank_element_error", schema: s, req: "GET /items_with_different_col_types?int_data=in.(%20,3,4)",
			status: 400, want: h("Content-Type: " + ctJSON),
			json: `{"code":"22P02","message":"invalid input syntax for type integer: \"\"","details":null,"hint":null}`},
		// upstream case 10206 (operators/isdistinct/range)
		{id: "10206", feature: "operators/isdistinct/range", schema: s, req: "GET /ranges?range=isdistinct.[1,3]&select=id",
			status: 200, json: `[{"id":2},{"id":3},{"id":4},{"id":5}]`},
		// upstream case 10207 (operators/isdistinct/array)
		{id: "10207", feature: "operators/isdistinct/array", schema: s, req: "GET /entities?arr=isdistinct.{1,2}&select=id",
			status: 200, json: `[{"id":1},{"id":3},{"id":4}]`},
		// upstream case 10208 (operators/not/logic_tree)
		{id: "10208", feature: "operators/not/logic_tree", schema: s, req: "GET /entities?and=(id.not.eq.2,arr.not.isdistinct.{1,2,3})&select=id",
			status: 200, json: `[{"id":3}]`},
		// upstream case 10209 (operators/quantifier/gte_all)
		{id: "10209", feature: "operators/quantifier/gte_all", schema: s, req: "GET /projects?id=gte(all).{4,3}",
			status: 200, json: `[{"id":4,"name":"OSX","client_id":2},{"id":5,"name":"Orphan","client_id":null}]`},
		// upstream case 10210 (operators/quantifier/lte_all)
		{id: "10210", feature: "operators/quantifier/lte_all", schema: s, req: "GET /projects?id=lte(all).{4,3}",
			status: 200, json: `[{"id":1,"name":"Windows 7","client_id":1},{"id":2,"name":"Windows 10","client_id":1},{"id":3,"name":"IOS","client_id":2}]`},
		// upstream case 10211 (operators/eq/range)
		{id: "10211", feature: "operators/eq/range", schema: s, req: "GET /ranges?range=eq.[1,3]&select=id",
			status: 200, json: `[{"id":1}]`},
		// upstream case 10212 (operators/eq/array)
		{id: "10212", feature: "operators/eq/array", schema: s, req: "GET /entities?arr=eq.{1,2,3}&select=id",
			status: 200, json: `[{"id":3}]`},
		// upstream case 10213 (operators/neq/array)
		{id: "10213", feature: "operators/neq/array", schema: s, req: "GET /entities?arr=neq.{1,2}&select=id",
			status: 200, json: `[{"id":1},{"id":3}]`},
		// upstream case 10214 (operators/not/gt)
		{id: "10214", feature: "operators/not/gt", schema: s, req: "GET /items?id=not.gt.2&order=id.asc",
			status: 200, want: h("Content-Range: 0-1/*"), json: `[{"id":1},{"id":2}]`},
		// upstream case 10215 (operators/not/logic_tree)
		{id: "10215", feature: "operators/not/logic_tree", schema: s, req: "GET /entities?and=(arr.not.cd.{1},or(id.not.lt.1,id.not.gte.3))&select=id",
			status: 200, json: `[{"id":2},{"id":3}]`},
		// upstream case 10216 (operators/not/logic_tree)
		{id: "10216", feature: "operators/not/logic_tree", schema: s, req: "GET /entities?and=(name.not.ilike.*ITY2,or(id.not.gt.4,id.not.lte.1))&select=id",
			status: 200, json: `[{"id":1},{"id":2},{"id":3}]`},
		// upstream case 10217 (operators/plfts/language)
		{id: "10217", feature: "operators/plfts/language", schema: s, req: "GET /tsearch?text_search_vector=plfts(french).amusant%20impossible",
			status: 200, json: `[{"text_search_vector":"'amus':5 'fair':7 'impossibl':9 'peu':4"}]`},
		// upstream case 10218 (operators/wfts/language)
		{id: "10218", feature: "operators/wfts/language", schema: s, req: "GET /tsearch?text_search_vector=wfts(french).amusant%20impossible",
			status: 200, json: `[{"text_search_vector":"'amus':5 'fair':7 'impossibl':9 'peu':4"}]`},
		// upstream case 10219 (operators/phfts/language)
		{id: "10219", feature: "operators/phfts/language", schema: s, req: "GET /tsearch?text_search_vector=phfts(german).Art%20Spass",
			status: 200, json: `[{"text_search_vector":"'art':4 'spass':5 'unmog':7"}]`},
		// upstream case 10220 (operators/fts/auto_tsvector/text)
		{id: "10220", feature: "operators/fts/auto_tsvector/text", schema: s, req: "GET /tsearch_to_tsvector?select=text_search&text_search=fts.impossible",
			status: 200, json: `[{"text_search":"It's kind of fun to do the impossible"},{"text_search":"C'est un peu amusant de faire l'impossible"}]`},
		// upstream case 10221 (operators/fts/auto_tsvector/jsonb)
		{id: "10221", feature: "operators/fts/auto_tsvector/jsonb", schema: s, req: "GET /tsearch_to_tsvector?select=jsonb_search&jsonb_search=fts.impossible",
			status: 200, json: `[{"jsonb_search":{"text_search":"It's kind of fun to do the impossible"}},{"jsonb_search":{"text_search":"C'est un peu amusant de faire l'impossible"}}]`},
		// upstream case 10231 (operators/fts/tsquery_operators/and)
		{id: "10231", feature: "operators/fts/tsquery_operators/and", schema: s, req: "GET /tsearch?text_search_vector=fts.fun%26possible",
			status: 200, json: `[{"text_search_vector":"'also':2 'fun':3 'possibl':8"}]`},
		// upstream case 10234 (operators/wfts/websearch_operators/and)
		{id: "10234", feature: "operators/wfts/websearch_operators/and", schema: s, req: "GET /tsearch?text_search_vector=wfts.fun%20and%20possible",
			status: 200, json: `[{"text_search_vector":"'also':2 'fun':3 'possibl':8"}]`},
		// upstream case 10222 (operators/fts/auto_tsvector/language/text)
		{id: "10222", feature: "operators/fts/auto_tsvector/language/text", schema: s, req: "GET /tsearch_to_tsvector?select=text_search&text_search=fts(french).amusant",
			status: 200, json: `[{"text_search":"C'est un peu amusant de faire l'impossible"}]`},
		// upstream case 10223 (operators/fts/auto_tsvector/language/jsonb)
		{id: "10223", feature: "operators/fts/auto_tsvector/language/jsonb", schema: s, req: "GET /tsearch_to_tsvector?select=jsonb_search&jsonb_search=fts(french).amusant",
			status: 200, json: `[{"jsonb_search":{"text_search":"C'est un peu amusant de faire l'impossible"}}]`},
		// upstream case 10224 (operators/plfts/auto_tsvector/text)
		{id: "10224", feature: "operators/plfts/auto_tsvector/text", schema: s, req: "GET /tsearch_to_tsvector?select=text_search&text_search=plfts.The%20Fat%20Rats",
			status: 200, json: `[{"text_search":"Fat cats ate rats"}]`},
		// upstream case 10225 (operators/wfts/auto_tsvector/text)
		{id: "10225", feature: "operators/wfts/auto_tsvector/text", schema: s, req: "GET /tsearch_to_tsvector?select=text_search&text_search=wfts.The%20Fat%20Rats",
			status: 200, json: `[{"text_search":"Fat cats ate rats"}]`},
		// upstream case 10226 (operators/phfts/auto_tsvector/text)
		{id: "10226", feature: "operators/phfts/auto_tsvector/text", schema: s, req: "GET /tsearch_to_tsvector?select=text_search&text_search=phfts.The%20Fat%20Cats",
			status: 200, json: `[{"text_search":"Fat cats ate rats"}]`},
		// upstream case 10227 (operators/not/fts/auto_tsvector/text)
		{id: "10227", feature: "operators/not/fts/auto_tsvector/text", schema: s, req: "GET /tsearch_to_tsvector?select=text_search&text_search=not.fts.impossible%7Cfat%7Cfun",
			status: 200, json: `[{"text_search":"Es ist eine Art Spaß, das Unmögliche zu machen"}]`},
		// upstream case 10228 (operators/fts/computed_field/tsvector)
		{id: "10228", feature: "operators/fts/computed_field/tsvector", schema: s, req: "GET /tsearch_to_tsvector?select=text_search_vector&text_search_vector=fts(simple).of",
			status: 200, json: `[{"text_search_vector":"'do':7 'fun':5 'impossible':9 'it':1 'kind':3 'of':4 's':2 'the':8 'to':6"}]`},
		// upstream case 10229 (operators/fts/auto_tsvector/domain)
		{id: "10229", feature: "operators/fts/auto_tsvector/domain", schema: s, req: "GET /tsearch_to_tsvector?select=text_search_domain&text_search_domain=fts(simple).of",
			status: 200, json: `[{"text_search_domain":"'do':7 'fun':5 'impossible':9 'it':1 'kind':3 'of':4 's':2 'the':8 'to':6"}]`},
		// upstream case 10232 (operators/fts/tsquery_operators/or)
		{id: "10232", feature: "operators/fts/tsquery_operators/or", schema: s, req: "GET /tsearch?text_search_vector=fts.impossible%7Cpossible",
			status: 200, json: `[{"text_search_vector":"'fun':5 'imposs':9 'kind':3"},{"text_search_vector":"'also':2 'fun':3 'possibl':8"}]`},
		// upstream case 10233 (operators/fts/tsquery_operators/not)
		{id: "10233", feature: "operators/fts/tsquery_operators/not", schema: s, req: "GET /tsearch?text_search_vector=fts.fun%26!possible",
			status: 200, json: `[{"text_search_vector":"'fun':5 'imposs':9 'kind':3"}]`},
		// upstream case 10235 (operators/wfts/websearch_operators/or)
		{id: "10235", feature: "operators/wfts/websearch_operators/or", schema: s, req: "GET /tsearch?text_search_vector=wfts.impossible%20or%20possible",
			status: 200, json: `[{"text_search_vector":"'fun':5 'imposs':9 'kind':3"},{"text_search_vector":"'also':2 'fun':3 'possibl':8"}]`},
		// upstream case 10236 (operators/wfts/websearch_operators/negation)
		{id: "10236", feature: "operators/wfts/websearch_operators/negation", schema: s, req: "GET /tsearch?text_search_vector=wfts.fun%20and%20-possible",
			status: 200, json: `[{"text_search_vector":"'fun':5 'imposs':9 'kind':3"}]`},
		//CONTINUE
	}
}
