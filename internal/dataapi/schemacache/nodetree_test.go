package schemacache

import (
	"reflect"
	"testing"
)

// viewRule is a _RETURN rule as pg_rewrite.ev_action prints it (trimmed):
// a subquery in the range table with its own target list, an escaped
// column name, a constant's datum bytes and a junk entry.
const viewRule = `({QUERY :commandType 1 :querySource 0 :canSetTag true :utilityStmt <>
 :rtable ({RANGETBLENTRY :alias {ALIAS :aliasname s :colnames <>} :rtekind 1
  :subquery {QUERY :commandType 1 :targetList ({TARGETENTRY :expr {VAR :varno 1 :varattno 2}
   :resno 1 :resname x :ressortgroupref 0 :resorigtbl 999 :resorigcol 9 :resjunk false})}})
 :targetList (
  {TARGETENTRY :expr {VAR :varno 1 :varattno 1 :vartype 23 :varnullingrels (b) :location 40}
   :resno 1 :resname order\ \{id\}\ \(x\) :ressortgroupref 0 :resorigtbl 16443 :resorigcol 1 :resjunk false}
  {TARGETENTRY :expr {CONST :consttype 23 :constlen 4 :constbyval true :constisnull false
   :location 7 :constvalue 4 [ 1 0 0 0 0 0 0 0 ]} :resno 2 :resname one :ressortgroupref 0
   :resorigtbl 0 :resorigcol 0 :resjunk false}
  {TARGETENTRY :expr {VAR :varno 1 :varattno 3} :resno 3 :resname "" :ressortgroupref 0
   :resorigtbl 16443 :resorigcol 3 :resjunk true}
 ) :override 0 :onConflict <> :returningList <> :groupClause <> :stmt_location 0 :stmt_len 0})`

func TestTargetOrigins(t *testing.T) {
	got, err := targetOrigins(viewRule)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]origin{1: {16443, 1}, 2: {0, 0}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for _, bad := range []string{"", "(", "({QUERY", "({QUERY :targetList ({TARGETENTRY :resno x})})", "(1)", "({RULE})", ")"} {
		if _, err := targetOrigins(bad); err == nil {
			t.Errorf("targetOrigins(%q) succeeded", bad)
		}
	}
}

func FuzzTargetOrigins(f *testing.F) {
	f.Add(viewRule)
	f.Add(`({QUERY :targetList ({TARGETENTRY :resno 1 :resorigtbl 1 :resorigcol 1})})`)
	f.Add(`({QUERY :targetList <>})`)
	f.Add(`({QUERY :a (( ) ) :b {X} :c \\ \} :targetList ()})`)
	f.Fuzz(func(t *testing.T, def string) {
		_, _ = targetOrigins(def)
	})
}
