-- The Data API conformance fixture: the tables, views, functions and rows
-- that the ported PostgREST cases read and write, one schema per area as
-- those cases name them. Loaded as a superuser into a database created with
-- C collation (some orderings are byte orderings) and TimeZone UTC.
-- Requests run as web_anon, logged in as authenticator.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'web_anon') THEN CREATE ROLE web_anon NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticator') THEN
    CREATE ROLE authenticator LOGIN NOINHERIT PASSWORD 'authenticator';
  END IF;
END $$;
GRANT web_anon TO authenticator;

CREATE SCHEMA test;
CREATE SCHEMA operators;
CREATE SCHEMA ordering;
CREATE SCHEMA pagination;
CREATE SCHEMA representations;
CREATE SCHEMA mutations;
CREATE SCHEMA rpc;
CREATE SCHEMA headers;


-- test (the default profile) and the v1/v2 profiles ---------------------------

SET search_path TO test, public;

CREATE TABLE items (id bigserial PRIMARY KEY);
INSERT INTO items SELECT g FROM generate_series(1, 15) g;
SELECT setval('items_id_seq', 15);

CREATE TABLE tiobe_pls (name text PRIMARY KEY, rank smallint);
INSERT INTO tiobe_pls VALUES ('Java', 1), ('C', 2), ('Python', 3);

CREATE TABLE w_or_wo_comma_names (name text);
INSERT INTO w_or_wo_comma_names VALUES
  ('Hebdon, John'), ('Williams, Mary'), ('Smith, Joseph'), ('David White'), ('Larry Thompson'), ('Double O Seven(007)');

CREATE TABLE pgrst_reserved_chars (
  "*id*" int,
  ":arr->ow::cast" text,
  "(inside,parens)" text,
  "a.dotted.column" text,
  "  col  w  space  " text
);
INSERT INTO pgrst_reserved_chars VALUES
  (1, ' arrow-1 ', ' parens-1 ', ' dotted-1 ', ' space-1'),
  (2, ' arrow-2 ', ' parens-2 ', ' dotted-2 ', ' space-2');

CREATE TABLE "Server Today" ("cHostname" text, "Just A Server Model" text);
INSERT INTO "Server Today" VALUES
  ('srv1', ' IBM,9113-550 (P5-550)'),
  ('srv2', ' IBM,9113-550 (P5-550)'),
  ('srv3', ' IBM,9131-52A (P5-52A)'),
  ('srv4', ' IBM,9133-55A (P5-55A)'),
  ('srv5', ' IBM,8406-71Y (P7-PS701)');

CREATE SCHEMA v1;
CREATE SCHEMA v2;

CREATE TABLE v1.parents (id int PRIMARY KEY, name text);
INSERT INTO v1.parents VALUES (1, 'parent v1-1'), (2, 'parent v1-2');
CREATE TABLE v1.children (id int PRIMARY KEY, name text, parent_id int, CONSTRAINT parent FOREIGN KEY (parent_id) REFERENCES v1.parents);
INSERT INTO v1.children VALUES (1, 'child v1-1', 1), (2, 'child v1-2', 2);
CREATE FUNCTION v1.get_parents_below(id int) RETURNS SETOF v1.parents
  LANGUAGE sql STABLE AS $$ SELECT * FROM v1.parents p WHERE p.id < $1 $$;

CREATE TABLE v2.parents (id int PRIMARY KEY, name text);
INSERT INTO v2.parents VALUES (3, 'parent v2-3'), (4, 'parent v2-4');
CREATE TABLE v2.children (id int PRIMARY KEY, name text, parent_id int, CONSTRAINT parent FOREIGN KEY (parent_id) REFERENCES v2.parents);
INSERT INTO v2.children VALUES (1, 'child v2-3', 3);
CREATE TABLE v2.another_table (id int PRIMARY KEY, another_value text);
INSERT INTO v2.another_table VALUES (1, 'value 1'), (2, 'value 2');
CREATE FUNCTION v2.get_parents_below(id int) RETURNS SETOF v2.parents
  LANGUAGE sql STABLE AS $$ SELECT * FROM v2.parents p WHERE p.id < $1 $$;

-- errors: each object fails in the way one case needs.
CREATE TABLE simple_pk (k varchar NOT NULL PRIMARY KEY, extra varchar NOT NULL);
INSERT INTO simple_pk VALUES ('xyyx', 'u');

CREATE TABLE fk_parent (id int PRIMARY KEY);
CREATE TABLE fk_child (id int PRIMARY KEY, parent_id int REFERENCES fk_parent);

CREATE FUNCTION raise_pt402() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE SQLSTATE 'PT402' USING message = 'Payment Required', detail = 'Quota exceeded', hint = 'Upgrade your plan';
END $$;
CREATE FUNCTION raise_bad_pt() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE SQLSTATE 'PT40A' USING message = 'Wrong';
END $$;
CREATE FUNCTION raise_sqlstate_test1() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE SQLSTATE 'PGRST' USING
    message = '{"code":"123","message":"ABC","details":"DEF","hint":"XYZ"}',
    detail = '{"status":332,"status_text":"My Custom Status","headers":{"X-Header":"str"}}';
END $$;
CREATE FUNCTION raise_sqlstate_test2() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE SQLSTATE 'PGRST' USING message = '{"code":"123","message":"ABC"}', detail = '{"status":332,"headers":{"X-Header":"str"}}';
END $$;
CREATE FUNCTION raise_sqlstate_test3() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE SQLSTATE 'PGRST' USING message = '{"code":"123","message":"ABC"}', detail = '{"status":404,"headers":{"X-Header":"str"}}';
END $$;
CREATE FUNCTION raise_sqlstate_invalid_json_message() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE SQLSTATE 'PGRST' USING message = 'INVALID', detail = '{"status":332,"headers":{"X-Header":"str"}}';
END $$;
CREATE FUNCTION raise_sqlstate_invalid_json_details() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE SQLSTATE 'PGRST' USING message = '{"code":"123","message":"ABC","details":"DEF"}', detail = 'INVALID';
END $$;
CREATE FUNCTION raise_sqlstate_missing_details() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE SQLSTATE 'PGRST' USING message = '{"code":"123","message":"ABC","details":"DEF"}';
END $$;
CREATE FUNCTION problem() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE 'bad thing';
END $$;
CREATE FUNCTION "assert"() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  ASSERT false, 'bad thing';
END $$;
CREATE FUNCTION infinite_recursion(n int) RETURNS int LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN test.infinite_recursion(n + 1); END $$;

CREATE TABLE cv_rows (id int PRIMARY KEY);
INSERT INTO cv_rows VALUES (1), (2);
CREATE VIEW bad_subquery AS SELECT * FROM cv_rows WHERE id = (SELECT id FROM cv_rows);

CREATE TABLE clients (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO clients VALUES (1, 'Microsoft'), (2, 'Apple');
CREATE TABLE projects (id int PRIMARY KEY, name text NOT NULL, client_id int REFERENCES clients);
INSERT INTO projects VALUES (1, 'Windows 7', 1), (2, 'Windows 10', 1), (3, 'IOS', 2), (4, 'OSX', 2), (5, 'Orphan', NULL);

-- select, filters and ordering: relationships of every cardinality.
ALTER TABLE projects RENAME CONSTRAINT projects_client_id_fkey TO client;

CREATE TABLE complex_items (id bigint PRIMARY KEY, name text, settings json, arr_data int[], "field-with_sep" int NOT NULL DEFAULT 1);
INSERT INTO complex_items VALUES
  (1, 'One', '{"foo":{"int":1,"bar":"baz"}}', '{1}'),
  (2, 'Two', '{"foo":{"int":1,"bar":"baz"}}', '{1,2}');
INSERT INTO complex_items VALUES (3, 'Three', '{"foo":{"int":1,"bar":"baz"}}', '{1,2,3}', 3);

CREATE TABLE tasks (id int PRIMARY KEY, name text NOT NULL, project_id int REFERENCES projects);
INSERT INTO tasks VALUES
  (1, 'Design w7', 1), (2, 'Code w7', 1), (3, 'Design w10', 2), (4, 'Code w10', 2),
  (5, 'Design IOS', 3), (6, 'Code IOS', 3), (7, 'Design OSX', 4), (8, 'Code OSX', 4);
CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO users VALUES (1, 'Angela Martin'), (2, 'Michael Scott'), (3, 'Dwight Schrute');
CREATE TABLE users_tasks (user_id int NOT NULL REFERENCES users, task_id int NOT NULL REFERENCES tasks, PRIMARY KEY (task_id, user_id));
INSERT INTO users_tasks VALUES (1, 1), (1, 2), (1, 3), (1, 4), (2, 5), (2, 6), (2, 7), (3, 1), (3, 5);

CREATE FUNCTION always_true(test.items) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT true $$;

CREATE TABLE entities (id int PRIMARY KEY, name text, arr int[]);
INSERT INTO entities VALUES (1, 'entity 1', '{1}'), (2, 'entity 2', '{1,2}'), (3, 'entity 3', '{1,2,3}'), (4, NULL, NULL);
CREATE TABLE child_entities (id int PRIMARY KEY, name text, parent_id int REFERENCES entities);
INSERT INTO child_entities VALUES
  (1, 'child entity 1', 1), (2, 'child entity 2', 1), (3, 'child entity 3', 2),
  (4, 'child entity 4', 1), (5, 'child entity 5', 1), (6, 'child entity 6', 2);

CREATE TABLE project_invoices (id int PRIMARY KEY, invoice_total numeric, project_id int REFERENCES projects);
INSERT INTO project_invoices VALUES (1, 100, 1), (2, 200, 1), (3, 500, 2), (4, 700, 2), (5, 1200, 3), (6, 2000, 3), (7, 100, 4), (8, 4000, 4);

CREATE TABLE students (id int, code text, name text, PRIMARY KEY (id, code));
INSERT INTO students VALUES (1, '0001', 'John Doe'), (2, '0002', 'Jane Doe');
CREATE TABLE students_info (id int, code text, address text, PRIMARY KEY (id, code),
  FOREIGN KEY (code, id) REFERENCES students (code, id) ON DELETE CASCADE);
INSERT INTO students_info VALUES (1, '0001', 'Street 1'), (2, '0002', 'Street 2');

CREATE TABLE country (id int PRIMARY KEY, name text);
INSERT INTO country VALUES (1, 'Afghanistan'), (2, 'Algeria');
CREATE TABLE capital (id int PRIMARY KEY, name text, country_id int UNIQUE REFERENCES country);
INSERT INTO capital VALUES (1, 'Kabul', 1), (2, 'Algiers', 2);

CREATE TABLE designers (id int PRIMARY KEY, name text);
INSERT INTO designers VALUES (1, 'Sid Meier'), (2, 'Hironobu Sakaguchi');
CREATE TABLE videogames (id int PRIMARY KEY, name text, designer_id int REFERENCES designers);
INSERT INTO videogames VALUES (1, 'Civilization I', 1), (2, 'Civilization II', 1), (3, 'Final Fantasy I', 2), (4, 'Final Fantasy II', 2);
CREATE FUNCTION computed_designers(test.videogames) RETURNS SETOF test.designers LANGUAGE sql STABLE ROWS 1
  AS $$ SELECT * FROM test.designers WHERE id = $1.designer_id $$;
CREATE FUNCTION computed_videogames(test.designers) RETURNS SETOF test.videogames LANGUAGE sql STABLE
  AS $$ SELECT * FROM test.videogames WHERE designer_id = $1.id $$;

CREATE TABLE nullable_names (id int PRIMARY KEY, name text);
INSERT INTO nullable_names VALUES (1, 'b'), (2, NULL), (3, 'a'), (4, 'c');
-- operators ------------------------------------------------------------------

SET search_path TO operators, public;

CREATE TABLE items (id bigserial PRIMARY KEY);
INSERT INTO items SELECT g FROM generate_series(1, 15) g;

CREATE TABLE simple_pk (k varchar NOT NULL PRIMARY KEY, extra varchar NOT NULL);
INSERT INTO simple_pk VALUES ('xyyx', 'u'), ('xYYx', 'v');

CREATE TABLE no_pk (a varchar, b varchar);
INSERT INTO no_pk VALUES (NULL, NULL), ('1', '0'), ('2', '0');

CREATE TABLE nullable_integer (a int);
INSERT INTO nullable_integer VALUES (NULL);

CREATE TABLE chores (id int PRIMARY KEY, name text, done bool);
INSERT INTO chores VALUES (1, 'take out the garbage', true), (2, 'do the laundry', false), (3, 'wash the dishes', NULL);

CREATE TABLE complex_items (
  id bigint PRIMARY KEY,
  name text,
  settings json,
  arr_data int[],
  "field-with_sep" int NOT NULL DEFAULT 1
);
INSERT INTO complex_items VALUES
  (1, 'One', '{"foo":{"int":1,"bar":"baz"}}', '{1}'),
  (2, 'Two', '{"foo":{"int":1,"bar":"baz"}}', '{1,2}');
INSERT INTO complex_items VALUES (3, 'Three', '{"foo":{"int":1,"bar":"baz"}}', '{1,2,3}', 3);

CREATE TABLE projects (id int PRIMARY KEY, name text NOT NULL, client_id int);
INSERT INTO projects VALUES (1, 'Windows 7', 1), (2, 'Windows 10', 1), (3, 'IOS', 2), (4, 'OSX', 2), (5, 'Orphan', NULL);

CREATE TABLE articles (id int PRIMARY KEY, body text, owner name NOT NULL);
INSERT INTO articles VALUES
  (1, 'No… It''s a thing; it''s like a plan, but with more greatness.', 'diogo'),
  (2, 'Stop talking, brain thinking. Hush.', 'diogo'),
  (3, 'It''s a fez. I wear a fez now. Fezes are cool.', 'diogo');

CREATE TABLE tsearch (text_search_vector tsvector);
INSERT INTO tsearch VALUES
  (to_tsvector('It''s kind of fun to do the impossible')),
  (to_tsvector('But also fun to do what is possible')),
  (to_tsvector('Fat cats ate rats')),
  (to_tsvector('french', 'C''est un peu amusant de faire l''impossible')),
  (to_tsvector('german', 'Es ist eine Art Spaß, das Unmögliche zu machen'));

CREATE TABLE entities (id int PRIMARY KEY, name text, arr int[], text_search_vector tsvector);
INSERT INTO entities VALUES
  (1, 'entity 1', '{1}', '''bar'':2 ''foo'':1'),
  (2, 'entity 2', '{1,2}', '''baz'':1 ''qux'':2'),
  (3, 'entity 3', '{1,2,3}', NULL),
  (4, NULL, NULL, NULL);

CREATE TABLE ranges (id int PRIMARY KEY, range numrange);
INSERT INTO ranges VALUES (1, '[1,3]'), (2, '[3,6]'), (3, '[6,9]'), (4, '[9,12]'), (5, NULL);

CREATE TABLE items_with_different_col_types (int_data int, text_data text, bool_data bool);
INSERT INTO items_with_different_col_types VALUES (1, NULL, false);

CREATE DOMAIN tsvector_not_null AS tsvector NOT NULL;
CREATE TABLE tsearch_to_tsvector (text_search text, jsonb_search jsonb, text_search_domain tsvector_not_null);
INSERT INTO tsearch_to_tsvector
  SELECT t, jsonb_build_object('text_search', t), to_tsvector('simple', t) FROM unnest(ARRAY[
    'It''s kind of fun to do the impossible',
    'But also fun to do what is possible',
    'Fat cats ate rats',
    'C''est un peu amusant de faire l''impossible',
    'Es ist eine Art Spaß, das Unmögliche zu machen']) WITH ORDINALITY AS u(t, n) ORDER BY n;
CREATE FUNCTION text_search_vector(tsearch_to_tsvector) RETURNS tsvector
  LANGUAGE sql STABLE AS $$ SELECT to_tsvector('simple', $1.text_search) $$;

-- pagination -------------------------------------------------------------------

SET search_path TO pagination, public;

CREATE TABLE items (id bigserial PRIMARY KEY);
INSERT INTO items SELECT g FROM generate_series(1, 15) g;

CREATE FUNCTION getitemrange(min bigint, max bigint) RETURNS SETOF items
  LANGUAGE sql STABLE AS $$ SELECT * FROM pagination.items WHERE id > min AND id <= max ORDER BY id $$;

CREATE TABLE child_entities (id int PRIMARY KEY, name text, parent_id int);
INSERT INTO child_entities VALUES
  (1, 'child entity 1', 1), (2, 'child entity 2', 1), (3, 'child entity 3', 2),
  (4, 'child entity 4', 1), (5, 'child entity 5', 1), (6, 'child entity 6', 2);
ANALYZE items, child_entities;

-- representations ------------------------------------------------------------

SET search_path TO representations, public;

CREATE TABLE items (id bigserial PRIMARY KEY);
INSERT INTO items VALUES (1), (2), (3);
SELECT setval('items_id_seq', 3);

CREATE TABLE clients (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO clients VALUES (1, 'Microsoft'), (2, 'Apple');

CREATE TABLE projects (id int PRIMARY KEY, name text NOT NULL, client_id int REFERENCES clients);
INSERT INTO projects VALUES (1, 'Windows 7', 1), (2, 'Windows 10', 1), (3, 'IOS', 2);

CREATE TABLE complex_items (
  id bigint PRIMARY KEY,
  name text,
  settings json,
  arr_data int[],
  "field-with_sep" int NOT NULL DEFAULT 1
);
INSERT INTO complex_items (id, name) VALUES (1, 'One'), (2, 'Two'), (3, 'Three');

CREATE TABLE auto_incrementing_pk (
  id serial PRIMARY KEY,
  nullable_string varchar,
  non_nullable_string varchar NOT NULL,
  inserted_at timestamptz DEFAULT now()
);
INSERT INTO auto_incrementing_pk (non_nullable_string) VALUES ('first');

CREATE TABLE car_models (name varchar(64), year int, car_brand_name varchar(64), PRIMARY KEY (name, year));

CREATE TABLE no_pk (a varchar, b varchar);
INSERT INTO no_pk VALUES (NULL, NULL), ('1', '0'), ('2', '0');

CREATE FUNCTION add_them(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT a + b $$;

-- rpc ------------------------------------------------------------------------

SET search_path TO rpc, public;

CREATE TABLE items (id bigserial PRIMARY KEY);
INSERT INTO items SELECT g FROM generate_series(1, 15) g;
CREATE TABLE projects (id int PRIMARY KEY, name text NOT NULL, client_id int);
INSERT INTO projects VALUES (1, 'Windows 7', 1), (2, 'Windows 10', 1), (3, 'IOS', 2), (4, 'OSX', 2), (5, 'Orphan', NULL);
CREATE TYPE point_2d AS (x int, y int);

CREATE FUNCTION add_them(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT a + b $$;
CREATE FUNCTION sayhello(name text) RETURNS text LANGUAGE sql STABLE AS $$ SELECT 'Hello, ' || name $$;
CREATE FUNCTION three_defaults(a int DEFAULT 1, b int DEFAULT 2, c int DEFAULT 3) RETURNS int
  LANGUAGE sql IMMUTABLE AS $$ SELECT a + b + c $$;
CREATE FUNCTION noparamsproc() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'Return value of no parameters procedure.' $$;
CREATE FUNCTION variadic_param(VARIADIC v text[] DEFAULT '{}') RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT v $$;
CREATE FUNCTION ret_array() RETURNS int[] LANGUAGE sql IMMUTABLE AS $$ SELECT '{1,2,3}'::int[] $$;
CREATE FUNCTION ret_setof_integers() RETURNS SETOF int LANGUAGE sql IMMUTABLE AS $$ VALUES (1), (2), (3) $$;
CREATE FUNCTION getitemrange(min bigint, max bigint) RETURNS SETOF items
  LANGUAGE sql STABLE AS $$ SELECT * FROM rpc.items WHERE id > min AND id <= max ORDER BY id $$;
CREATE FUNCTION ret_point_2d() RETURNS point_2d LANGUAGE sql IMMUTABLE AS $$ SELECT ROW(10, 5)::rpc.point_2d $$;
CREATE FUNCTION ret_void() RETURNS void LANGUAGE sql IMMUTABLE AS $$ SELECT $$;
CREATE FUNCTION single_out_param(num int, OUT num_plus_one int) LANGUAGE sql IMMUTABLE AS $$ SELECT num + 1 $$;
CREATE FUNCTION single_inout_param(INOUT num int) LANGUAGE sql IMMUTABLE AS $$ SELECT num + 1 $$;
CREATE FUNCTION many_out_params(OUT my_json json, OUT num int, OUT str text)
  LANGUAGE sql IMMUTABLE AS $$ SELECT '{"a": 1, "b": "two"}'::json, 3, 'four'::text $$;
CREATE FUNCTION single_column_table_return() RETURNS TABLE (a text) LANGUAGE sql IMMUTABLE AS $$ SELECT 'A'::text $$;
CREATE FUNCTION multi_column_table_return() RETURNS TABLE (a text, b text) LANGUAGE sql IMMUTABLE AS $$ SELECT 'A'::text, 'B'::text $$;
CREATE FUNCTION getallprojects() RETURNS SETOF projects LANGUAGE sql STABLE AS $$ SELECT * FROM rpc.projects ORDER BY id $$;
CREATE FUNCTION getproject(id int) RETURNS SETOF projects LANGUAGE sql STABLE AS $$ SELECT * FROM rpc.projects p WHERE p.id = $1 $$;
CREATE FUNCTION overloaded() RETURNS SETOF int LANGUAGE sql IMMUTABLE AS $$ VALUES (1), (2), (3) $$;
CREATE FUNCTION overloaded(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT a + b $$;
CREATE FUNCTION overloaded(a text, b text, c text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT a || b || c $$;
CREATE FUNCTION unnamed_json_param(json) RETURNS json LANGUAGE sql IMMUTABLE AS $$ SELECT $1 $$;
CREATE FUNCTION named_json_param(data json) RETURNS json LANGUAGE sql IMMUTABLE AS $$ SELECT data $$;
CREATE FUNCTION "true"() RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT true $$;
CREATE FUNCTION delete_items_returns_void() RETURNS void LANGUAGE sql AS $$ DELETE FROM rpc.items WHERE id > 100 $$;
CREATE FUNCTION add_item(id bigint) RETURNS SETOF items LANGUAGE sql AS $$ INSERT INTO rpc.items VALUES (id) RETURNING * $$;
CREATE FUNCTION volatile_reader() RETURNS int LANGUAGE sql AS $$ SELECT count(*)::int FROM rpc.items $$;

-- mutations ------------------------------------------------------------------

SET search_path TO mutations, public;

CREATE TABLE items (id bigserial PRIMARY KEY);
INSERT INTO items SELECT g FROM generate_series(1, 15) g;
SELECT setval('items_id_seq', 15);

CREATE TABLE clients (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO clients VALUES (1, 'Microsoft'), (2, 'Apple');
CREATE TABLE projects (id int PRIMARY KEY, name text NOT NULL, client_id int REFERENCES clients);
INSERT INTO projects VALUES (1, 'Windows 7', 1), (2, 'Windows 10', 1), (3, 'IOS', 2), (4, 'OSX', 2), (5, 'Orphan', NULL);

CREATE TABLE articles (id int PRIMARY KEY, body text, owner text NOT NULL DEFAULT 'anonymous');
INSERT INTO articles VALUES (1, 'first', 'diogo'), (2, 'second', 'diogo');

CREATE TABLE compound_pk (k1 int, k2 text, extra int, PRIMARY KEY (k1, k2));
CREATE TABLE tiobe_pls (name text PRIMARY KEY, rank smallint);
INSERT INTO tiobe_pls VALUES ('Java', 1), ('C', 2), ('Python', 3);
CREATE TABLE "withUnique" (uni text UNIQUE, extra text);
INSERT INTO "withUnique" VALUES ('nodup', 'blah');
CREATE TABLE has_generated (a int PRIMARY KEY, b int GENERATED ALWAYS AS (a * 2) STORED);
CREATE TABLE no_pk (a varchar, b varchar);

-- privileges -----------------------------------------------------------------

DO $$
DECLARE s text;
BEGIN
  FOREACH s IN ARRAY ARRAY['test', 'operators', 'ordering', 'pagination', 'representations', 'mutations', 'rpc', 'headers', 'v1', 'v2'] LOOP
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO web_anon', s);
    EXECUTE format('GRANT ALL ON ALL TABLES IN SCHEMA %I TO web_anon', s);
    EXECUTE format('GRANT ALL ON ALL SEQUENCES IN SCHEMA %I TO web_anon', s);
    EXECUTE format('GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA %I TO web_anon', s);
  END LOOP;
END $$;
