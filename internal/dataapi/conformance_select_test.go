package dataapi_test

// select=: columns, aliases, casts, JSON paths, computed columns,
// embedding of every cardinality, spreads and aggregates; with the
// filters and orders on them. Ported from PostgREST's select, filters and
// ordering areas; entries are named by the upstream behaviour they mirror
// (SEL:…, FIL:…, ORD:…) where the upstream model names no case.
func init() {
	confAreas["select"] = []confCase{
		// upstream behaviour SEL:columns
		{id: "SEL:columns", feature: "select/columns", req: "GET /complex_items?select=id,name&id=eq.1",
			status: 200, json: `[{"id":1,"name":"One"}]`},
		// upstream behaviour SEL:star
		{id: "SEL:star", feature: "select/star", req: "GET /complex_items?id=eq.3",
			status: 200, json: `[{"id":3,"name":"Three","settings":{"foo":{"int":1,"bar":"baz"}},"arr_data":[1,2,3],"field-with_sep":3}]`},
		// upstream behaviour SEL:alias
		{id: "SEL:alias", feature: "select/alias", req: "GET /complex_items?select=myId:id,myName:name&id=eq.1",
			status: 200, json: `[{"myId":1,"myName":"One"}]`},
		// upstream behaviour SEL:cast
		{id: "SEL:cast", feature: "select/cast", req: "GET /complex_items?select=id::text,name&id=eq.1",
			status: 200, json: `[{"id":"1","name":"One"}]`},
		// upstream behaviour SEL:alias-cast
		{id: "SEL:alias-cast", feature: "select/alias-cast", req: "GET /complex_items?select=key:id::text&id=eq.2",
			status: 200, json: `[{"key":"2"}]`},
		// upstream behaviour SEL:dash-column
		{id: "SEL:dash-column", feature: "select/dash-column", req: "GET /complex_items?select=field-with_sep&id=eq.3",
			status: 200, json: `[{"field-with_sep":3}]`},
		// upstream behaviour SEL:json-arrow-text
		{id: "SEL:json-arrow-text", feature: "select/json-path/text", req: "GET /complex_items?select=id,settings->foo->>bar&id=eq.1",
			status: 200, json: `[{"id":1,"bar":"baz"}]`},
		// upstream behaviour SEL:json-arrow-json
		{id: "SEL:json-arrow-json", feature: "select/json-path/json", req: "GET /complex_items?select=settings->foo->int&id=eq.1",
			status: 200, json: `[{"int":1}]`},
		// upstream behaviour SEL:json-alias
		{id: "SEL:json-alias", feature: "select/json-path/alias", req: "GET /complex_items?select=id,myBar:settings->foo->>bar&id=eq.2",
			status: 200, json: `[{"id":2,"myBar":"baz"}]`},
		// upstream behaviour SEL:json-object
		{id: "SEL:json-object", feature: "select/json-path/object", req: "GET /complex_items?select=settings->foo&id=eq.1",
			status: 200, json: `[{"foo":{"int":1,"bar":"baz"}}]`},
		// upstream behaviour SEL:computed-column
		{id: "SEL:computed-column", feature: "select/computed-column", req: "GET /items?select=id,always_true&id=eq.1",
			status: 200, json: `[{"id":1,"always_true":true}]`},
		// upstream behaviour SEL:embed/many-to-one
		{id: "SEL:embed-m2o", feature: "select/embed/many-to-one", req: "GET /projects?select=id,clients(name)&id=eq.1",
			status: 200, json: `[{"id":1,"clients":{"name":"Microsoft"}}]`},
		// upstream behaviour SEL:embed/many-to-one-null
		{id: "SEL:embed-m2o-null", feature: "select/embed/many-to-one-null", req: "GET /projects?select=id,clients(name)&id=eq.5",
			status: 200, json: `[{"id":5,"clients":null}]`},
		// upstream behaviour SEL:embed/one-to-many
		{id: "SEL:embed-o2m", feature: "select/embed/one-to-many", req: "GET /clients?select=id,projects(id)&id=eq.1&projects.order=id",
			status: 200, json: `[{"id":1,"projects":[{"id":1},{"id":2}]}]`},
		// upstream behaviour SEL:embed/many-to-many
		{id: "SEL:embed-m2m", feature: "select/embed/many-to-many", req: "GET /users?select=name,tasks(id)&id=eq.3&tasks.order=id",
			status: 200, json: `[{"name":"Dwight Schrute","tasks":[{"id":1},{"id":5}]}]`},
		// upstream behaviour SEL:embed/nested
		{id: "SEL:embed-nested", feature: "select/embed/nested", req: "GET /clients?select=name,projects(name,tasks(name))&id=eq.2&projects.order=id&projects.tasks.order=id",
			status: 200, json: `[{"name":"Apple","projects":[{"name":"IOS","tasks":[{"name":"Design IOS"},{"name":"Code IOS"}]},{"name":"OSX","tasks":[{"name":"Design OSX"},{"name":"Code OSX"}]}]}]`},
		// upstream behaviour SEL:embed/alias
		{id: "SEL:embed-alias", feature: "select/embed/alias", req: "GET /projects?select=id,owner:clients(name)&id=eq.3",
			status: 200, json: `[{"id":3,"owner":{"name":"Apple"}}]`},
		// upstream behaviour SEL:embed/fk-hint
		{id: "SEL:embed-hint", feature: "select/embed/hint", req: "GET /projects?select=id,clients!client(name)&id=eq.3",
			status: 200, json: `[{"id":3,"clients":{"name":"Apple"}}]`},
		// upstream behaviour SEL:embed/one-to-one (composite key)
		{id: "SEL:embed-o2o-pk", feature: "select/embed/one-to-one", req: "GET /students?select=name,students_info(address)&id=eq.1",
			status: 200, json: `[{"name":"John Doe","students_info":{"address":"Street 1"}}]`},
		// upstream behaviour SEL:embed/one-to-one (unique fk)
		{id: "SEL:embed-o2o-unique", feature: "select/embed/one-to-one", req: "GET /country?select=name,capital(name)&id=eq.1",
			status: 200, json: `[{"name":"Afghanistan","capital":{"name":"Kabul"}}]`},
		// upstream behaviour SEL:embed/one-to-one (reverse)
		{id: "SEL:embed-o2o-reverse", feature: "select/embed/one-to-one", req: "GET /capital?select=name,country(name)&id=eq.2",
			status: 200, json: `[{"name":"Algiers","country":{"name":"Algeria"}}]`},
		// upstream behaviour SEL:embed/computed-relationship
		{id: "SEL:embed-computed-to-one", feature: "select/embed/computed", req: "GET /videogames?select=name,computed_designers(name)&id=eq.1",
			status: 200, json: `[{"name":"Civilization I","computed_designers":{"name":"Sid Meier"}}]`},
		// upstream behaviour SEL:embed/computed-relationship (to many)
		{id: "SEL:embed-computed-to-many", feature: "select/embed/computed", req: "GET /designers?select=name,computed_videogames(name)&id=eq.2&computed_videogames.order=id",
			status: 200, json: `[{"name":"Hironobu Sakaguchi","computed_videogames":[{"name":"Final Fantasy I"},{"name":"Final Fantasy II"}]}]`},
		// upstream behaviour SEL:embed/spread
		{id: "SEL:spread", feature: "select/embed/spread", req: "GET /projects?select=id,...clients(client_name:name)&id=eq.1",
			status: 200, json: `[{"id":1,"client_name":"Microsoft"}]`},
		// upstream behaviour SEL:embed/not-found
		{id: "SEL:embed-not-found", feature: "select/embed/not-found", req: "GET /projects?select=*,nope(*)",
			status: 400, fields: `{"code":"PGRST200","message":"Could not find a relationship between 'projects' and 'nope' in the schema cache"}`},
		// upstream behaviour SEL:aggregate/sum
		{id: "SEL:aggregate-sum", feature: "select/aggregate/sum", req: "GET /project_invoices?select=invoice_total.sum()",
			status: 200, json: `[{"sum":8800}]`},
		// upstream behaviour SEL:aggregate/count
		{id: "SEL:aggregate-count", feature: "select/aggregate/count", req: "GET /project_invoices?select=count()",
			status: 200, json: `[{"count":8}]`},
		// upstream behaviour SEL:aggregate/group-by
		{id: "SEL:aggregate-group", feature: "select/aggregate/group-by", req: "GET /project_invoices?select=project_id,total:invoice_total.sum()&order=project_id",
			status: 200, json: `[{"project_id":1,"total":300},{"project_id":2,"total":1200},{"project_id":3,"total":3200},{"project_id":4,"total":4100}]`},
		// upstream behaviour SEL:aggregate/embedded-count
		{id: "SEL:aggregate-embedded-count", feature: "select/aggregate/embedded-count", req: "GET /projects?select=id,tasks(count())&id=eq.1",
			status: 200, json: `[{"id":1,"tasks":[{"count":2}]}]`},
		// upstream behaviour SEL:aggregate/embedded
		{id: "SEL:aggregate-embedded", feature: "select/aggregate/embedded", req: "GET /projects?select=name,project_invoices(invoice_total.sum())&id=eq.1",
			status: 200, json: `[{"name":"Windows 7","project_invoices":[{"sum":300}]}]`},
	}
	confAreas["filters"] = []confCase{
		// upstream behaviour FIL:embedded/one-to-many
		{id: "FIL:embedded-o2m", feature: "filters/embedded/one-to-many", req: "GET /clients?select=id,projects(id)&projects.id=gt.1&id=eq.1",
			status: 200, json: `[{"id":1,"projects":[{"id":2}]}]`},
		// upstream behaviour FIL:embedded/inner
		{id: "FIL:embedded-inner", feature: "filters/embedded/inner", req: "GET /entities?select=id,child_entities!inner(id)&child_entities.id=eq.3",
			status: 200, json: `[{"id":2,"child_entities":[{"id":3}]}]`},
		// upstream behaviour FIL:embedded/null
		{id: "FIL:embedded-null", feature: "filters/embedded/null", req: "GET /entities?select=id,child_entities(id)&child_entities=is.null&order=id",
			status: 200, json: `[{"id":3,"child_entities":[]},{"id":4,"child_entities":[]}]`},
		// upstream behaviour FIL:embedded/not-null
		{id: "FIL:embedded-not-null", feature: "filters/embedded/not-null", req: "GET /entities?select=id,child_entities()&child_entities=not.is.null&order=id",
			status: 200, json: `[{"id":1},{"id":2}]`},
		// upstream behaviour FIL:embedded/to-one-inner
		{id: "FIL:embedded-to-one", feature: "filters/embedded/to-one", req: "GET /projects?select=id,clients!inner(name)&clients.name=eq.Apple&order=id",
			status: 200, json: `[{"id":3,"clients":{"name":"Apple"}},{"id":4,"clients":{"name":"Apple"}}]`},
		// upstream behaviour FIL:embedded/or
		{id: "FIL:embedded-or", feature: "filters/embedded/or", req: "GET /clients?select=id,projects(id)&projects.or=(id.eq.1,id.eq.2)&id=eq.1&projects.order=id",
			status: 200, json: `[{"id":1,"projects":[{"id":1},{"id":2}]}]`},
		// upstream behaviour FIL:logic/or
		{id: "FIL:or", feature: "filters/logic/or", req: "GET /projects?select=id&or=(id.eq.1,id.eq.3)&order=id",
			status: 200, json: `[{"id":1},{"id":3}]`},
		// upstream behaviour FIL:logic/nested
		{id: "FIL:nested", feature: "filters/logic/nested", req: "GET /projects?select=id&or=(id.eq.1,and(id.gt.3,client_id.eq.2))&order=id",
			status: 200, json: `[{"id":1},{"id":4}]`},
		// upstream behaviour FIL:logic/not-or
		{id: "FIL:not-or", feature: "filters/logic/not-or", req: "GET /projects?select=id&not.or=(id.eq.1,id.eq.3)&order=id",
			status: 200, json: `[{"id":2},{"id":4},{"id":5}]`},
		// upstream behaviour FIL:logic/and-with-column-filter
		{id: "FIL:and-column", feature: "filters/logic/and", req: "GET /projects?select=id&and=(id.gte.2,id.lte.4)&client_id=eq.2&order=id",
			status: 200, json: `[{"id":3},{"id":4}]`},
		// upstream behaviour FIL:json-path
		{id: "FIL:json-path", feature: "filters/json-path", req: "GET /complex_items?select=id&settings->foo->>bar=eq.baz&id=lt.3&order=id",
			status: 200, json: `[{"id":1},{"id":2}]`},
		// upstream behaviour FIL:computed-column
		{id: "FIL:computed-column", feature: "filters/computed-column", req: "GET /items?select=id&always_true=is.true&id=lt.3&order=id",
			status: 200, json: `[{"id":1},{"id":2}]`},
		// upstream behaviour FIL:multiple-same-column
		{id: "FIL:same-column", feature: "filters/same-column", req: "GET /items?select=id&id=gt.3&id=lt.6&order=id",
			status: 200, json: `[{"id":4},{"id":5}]`},
		// upstream behaviour FIL:unknown-column
		{id: "FIL:unknown-column", feature: "filters/unknown-column", req: "GET /items?nope=eq.1",
			status: 400, fields: `{"code":"42703"}`},
		// upstream behaviour FIL:unknown-operator
		{id: "FIL:unknown-operator", feature: "filters/unknown-operator", req: "GET /items?id=xx.1",
			status: 400, fields: `{"code":"PGRST100"}`},
		// upstream behaviour FIL:quoted-value
		{id: "FIL:quoted-value", feature: "filters/quoted-value", req: "GET /tasks?select=id&name=in.(%22Code%20w7%22,%22Code%20w10%22)&order=id",
			status: 200, json: `[{"id":2},{"id":4}]`},
		// upstream behaviour FIL:ilike-suffix
		{id: "FIL:ilike-suffix", feature: "filters/ilike", req: "GET /tasks?select=id&name=ilike.*W7&order=id",
			status: 200, json: `[{"id":1},{"id":2}]`},
		// upstream behaviour FIL:or-ilike
		{id: "FIL:or-ilike", feature: "filters/logic/or-ilike", req: "GET /tasks?select=id&or=(name.ilike.*w7,name.ilike.*OSX)&order=id",
			status: 200, json: `[{"id":1},{"id":2},{"id":7},{"id":8}]`},
		// upstream behaviour FIL:is-null
		{id: "FIL:is-null", feature: "filters/is-null", req: "GET /projects?select=id&client_id=is.null",
			status: 200, json: `[{"id":5}]`},
		// upstream behaviour FIL:not-is-null
		{id: "FIL:not-is-null", feature: "filters/not-is-null", req: "GET /projects?select=id&client_id=not.is.null&order=id",
			status: 200, json: `[{"id":1},{"id":2},{"id":3},{"id":4}]`},
		// upstream behaviour FIL:neq-and-eq
		{id: "FIL:neq-and-eq", feature: "filters/neq", req: "GET /projects?select=id&name=neq.IOS&client_id=eq.2",
			status: 200, json: `[{"id":4}]`},
		// upstream behaviour FIL:not-in
		{id: "FIL:not-in", feature: "filters/not-in", req: "GET /projects?select=id&id=not.in.(1,2,3)&order=id",
			status: 200, json: `[{"id":4},{"id":5}]`},
		// upstream behaviour FIL:array-overlap
		{id: "FIL:array-overlap", feature: "filters/array/ov", req: "GET /complex_items?select=id&arr_data=ov.{3,4}",
			status: 200, json: `[{"id":3}]`},
		// upstream behaviour FIL:m2m-inner
		{id: "FIL:m2m-inner", feature: "filters/embedded/m2m-inner", req: "GET /users?select=name,tasks!inner(name)&tasks.name=eq.Code%20IOS",
			status: 200, json: `[{"name":"Michael Scott","tasks":[{"name":"Code IOS"}]}]`},
		// upstream behaviour FIL:any-like
		{id: "FIL:like-any", feature: "filters/like-any", req: "GET /tasks?select=id&name=like(any).{Code*,*OSX}&order=id",
			status: 200, json: `[{"id":2},{"id":4},{"id":6},{"id":7},{"id":8}]`},
	}
	confAreas["ordering"] = []confCase{
		// upstream behaviour ORD:desc
		{id: "ORD:desc", feature: "ordering/desc", req: "GET /projects?select=id&order=id.desc&limit=2",
			status: 200, json: `[{"id":5},{"id":4}]`},
		// upstream behaviour ORD:asc-default
		{id: "ORD:asc-default", feature: "ordering/asc-default", req: "GET /projects?select=name&order=name&limit=3",
			status: 200, json: `[{"name":"IOS"},{"name":"OSX"},{"name":"Orphan"}]`},
		// upstream behaviour ORD:multiple
		{id: "ORD:multiple", feature: "ordering/multiple", req: "GET /projects?select=id&order=client_id.desc.nullslast,id.asc",
			status: 200, json: `[{"id":3},{"id":4},{"id":1},{"id":2},{"id":5}]`},
		// upstream behaviour ORD:nullsfirst
		{id: "ORD:nullsfirst", feature: "ordering/nullsfirst", req: "GET /nullable_names?select=id&order=name.asc.nullsfirst",
			status: 200, json: `[{"id":2},{"id":3},{"id":1},{"id":4}]`},
		// upstream behaviour ORD:nullslast
		{id: "ORD:nullslast", feature: "ordering/nullslast", req: "GET /nullable_names?select=id&order=name.desc.nullslast",
			status: 200, json: `[{"id":4},{"id":1},{"id":3},{"id":2}]`},
		// upstream behaviour ORD:desc-nulls-default
		{id: "ORD:desc-nulls-default", feature: "ordering/desc-nulls-default", req: "GET /nullable_names?select=id&order=name.desc",
			status: 200, json: `[{"id":2},{"id":4},{"id":1},{"id":3}]`},
		// upstream behaviour ORD:json-path
		{id: "ORD:json-path", feature: "ordering/json-path", req: "GET /complex_items?select=id&order=settings->foo->>bar,id.desc",
			status: 200, json: `[{"id":3},{"id":2},{"id":1}]`},
		// upstream behaviour ORD:embedded-children
		{id: "ORD:embedded-children", feature: "ordering/embedded/children", req: "GET /clients?select=id,projects(id)&projects.order=id.desc&id=eq.2",
			status: 200, json: `[{"id":2,"projects":[{"id":4},{"id":3}]}]`},
		// upstream behaviour ORD:embedded-to-one
		{id: "ORD:embedded-to-one", feature: "ordering/embedded/to-one", req: "GET /projects?select=id,clients(name)&order=clients(name).desc.nullslast,id&id=lt.5",
			status: 200, json: `[{"id":1,"clients":{"name":"Microsoft"}},{"id":2,"clients":{"name":"Microsoft"}},{"id":3,"clients":{"name":"Apple"}},{"id":4,"clients":{"name":"Apple"}}]`},
		// upstream behaviour ORD:computed-column
		{id: "ORD:computed-column", feature: "ordering/computed-column", req: "GET /items?select=id&order=always_true,id.desc&limit=2",
			status: 200, json: `[{"id":15},{"id":14}]`},
		// upstream behaviour ORD:unknown-column
		{id: "ORD:unknown-column", feature: "ordering/unknown-column", req: "GET /items?order=nope",
			status: 400, fields: `{"code":"42703"}`},
		// upstream behaviour ORD:invalid
		{id: "ORD:invalid", feature: "ordering/invalid", req: "GET /items?order=id.sideways",
			status: 400, fields: `{"code":"PGRST100"}`},
		// upstream behaviour ORD:embedded-limit
		{id: "ORD:embedded-limit", feature: "ordering/embedded/limit", req: "GET /clients?select=id,projects(id)&projects.order=id&projects.limit=1&order=id",
			status: 200, json: `[{"id":1,"projects":[{"id":1}]},{"id":2,"projects":[{"id":3}]}]`},
	}
}
