package branchspec

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/metastore"
)

func wantInvalid(t *testing.T, err error, has string) {
	t.Helper()
	if errkind.Of(err) != errkind.Invalid || !strings.Contains(err.Error(), has) {
		t.Fatalf("%v, want an invalid-request error with %q", err, has)
	}
}

// TestList: defaults, a page cut with its cursor, and the next request
// that carries it.
func TestList(t *testing.T) {
	f, err := ListFilter(ListInput{})
	if err != nil || f.SortBy != "updated_at" || !f.Desc || f.Limit != MaxPage+1 || f.AfterID != "" {
		t.Fatalf("defaults: %+v, %v", f, err)
	}
	f, err = ListFilter(ListInput{SortBy: "created_at", SortOrder: "ASC", Limit: 2, Search: "dev"})
	if err != nil || f.SortBy != "created_at" || f.Desc || f.Limit != 3 || f.Search != "dev" || SortOrder(f) != "asc" {
		t.Fatalf("explicit: %+v, %v", f, err)
	}
	at := time.Date(2026, 4, 15, 10, 0, 0, 0, time.UTC)
	bs := []metastore.Branch{{ID: "br-1", CreatedAt: at}, {ID: "br-2", CreatedAt: at.Add(time.Second)}, {ID: "br-3"}}
	page, next := Page(f, bs)
	if len(page) != 2 || next == "" {
		t.Fatalf("Page = %d branches, %q", len(page), next)
	}
	if page, last := Page(f, bs[:2]); len(page) != 2 || last != "" {
		t.Fatalf("last page: %d branches, %q", len(page), last)
	}
	f2, err := ListFilter(ListInput{Cursor: next, Limit: 2})
	if err != nil || f2.SortBy != "created_at" || f2.Desc || f2.AfterID != "br-2" || f2.AfterValue != "2026-04-15T10:00:01Z" {
		t.Fatalf("from the cursor: %+v, %v", f2, err)
	}
	for _, tc := range []struct {
		in  ListInput
		has string
	}{
		{ListInput{Cursor: "!!"}, "cursor is not a cursor"},
		{ListInput{SortBy: "size"}, "sort_by must be one of"},
		{ListInput{SortOrder: "up"}, "sort_order must be asc or desc"},
		{ListInput{Cursor: next, SortBy: "name"}, "cursor was made for sort_by created_at"},
		{ListInput{Limit: MaxPage + 1}, "limit must be between 1 and 10000"},
		{ListInput{Limit: -1}, "limit must be between"},
	} {
		_, err := ListFilter(tc.in)
		wantInvalid(t, err, tc.has)
	}
}

func TestExpiry(t *testing.T) {
	now := time.Date(2026, 4, 15, 10, 0, 0, 0, time.UTC)
	if err := CheckExpiry(now.Add(time.Hour), now); err != nil {
		t.Error(err)
	}
	wantInvalid(t, CheckExpiry(now, now), "in the future")
	wantInvalid(t, CheckExpiry(now.Add(MaxExpiry+time.Second), now), "at most 30 days")
	var b metastore.Branch
	Expire(&b, now.Add(90*time.Minute+500*time.Millisecond), now)
	if !b.ExpiresAt.Equal(now.Add(90*time.Minute)) || *b.TTLIntervalSeconds != 5400 {
		t.Errorf("Expire: %v, %d", b.ExpiresAt, *b.TTLIntervalSeconds)
	}
}

func TestInitSource(t *testing.T) {
	for in, want := range map[string]string{"": "parent-data", "parent-data": "parent-data", "schema-only": "schema-only"} {
		if got, err := InitSource(in); err != nil || got != want {
			t.Errorf("InitSource(%q) = %q, %v", in, got, err)
		}
	}
	_, err := InitSource("empty")
	wantInvalid(t, err, `branch.init_source "empty" is not supported`)
}

func TestApply(t *testing.T) {
	now := time.Date(2026, 4, 15, 10, 0, 0, 0, time.UTC)
	sp := func(s string) *string { return &s }
	bp := func(v bool) *bool { return &v }
	raw := func(s string) *json.RawMessage { r := json.RawMessage(s); return &r }
	later := now.Add(time.Hour)
	expiring := metastore.Branch{ID: "br-1", ExpiresAt: &later}

	b, protect, expires, err := Apply(metastore.Branch{ID: "br-1", Name: "a"}, Update{Name: sp("b"), Protected: bp(true)}, now)
	if err != nil || b.Name != "b" || !b.Protected || !protect || expires {
		t.Fatalf("rename and protect: %+v, %v, %v, %v", b, protect, expires, err)
	}
	b, _, expires, err = Apply(metastore.Branch{ID: "br-1"}, Update{ExpiresAt: raw(`"2026-04-15T12:00:00Z"`)}, now)
	if err != nil || !expires || !b.ExpiresAt.Equal(now.Add(2*time.Hour)) || *b.TTLIntervalSeconds != 7200 {
		t.Fatalf("expiry: %+v, %v, %v", b, expires, err)
	}
	b, _, expires, err = Apply(expiring, Update{ExpiresAt: raw(`null`), Protected: bp(true)}, now)
	if err != nil || expires || b.ExpiresAt != nil || b.TTLIntervalSeconds != nil || !b.Protected {
		t.Fatalf("cleared and protected: %+v, %v, %v", b, expires, err)
	}
	for _, tc := range []struct {
		b   metastore.Branch
		in  Update
		has string
	}{
		{metastore.Branch{}, Update{Name: sp("")}, "branch.name must be 1 to 256"},
		{expiring, Update{Protected: bp(true)}, "cannot protect branch br-1"},
		{metastore.Branch{}, Update{ExpiresAt: raw(`"tomorrow"`)}, "RFC 3339"},
		{metastore.Branch{IsDefault: true}, Update{ExpiresAt: raw(`"2026-04-15T12:00:00Z"`)}, "default branch"},
		{metastore.Branch{Protected: true}, Update{ExpiresAt: raw(`"2026-04-15T12:00:00Z"`)}, "protected branch"},
		{metastore.Branch{}, Update{ExpiresAt: raw(`"2026-04-15T09:00:00Z"`)}, "in the future"},
	} {
		_, _, _, err := Apply(tc.b, tc.in, now)
		wantInvalid(t, err, tc.has)
	}
}

func TestCheckCreate(t *testing.T) {
	now := time.Date(2026, 4, 15, 10, 0, 0, 0, time.UTC)
	later := now.Add(time.Hour)
	yes := true
	in, err := CheckCreate(Create{Name: "dev", ExpiresAt: &later}, metastore.Branch{ID: "br-p"}, now)
	if err != nil || in.InitSource != "parent-data" || in.Name != "dev" {
		t.Fatalf("CheckCreate = %+v, %v", in, err)
	}
	for _, tc := range []struct {
		in     Create
		parent metastore.Branch
		has    string
	}{
		{Create{InitSource: "none"}, metastore.Branch{}, "branch.init_source"},
		{Create{Name: strings.Repeat("n", MaxName+1)}, metastore.Branch{}, "branch.name must be at most 256"},
		{Create{ParentLSN: "0/1", ParentTimestamp: &now}, metastore.Branch{}, "mutually exclusive"},
		{Create{}, metastore.Branch{ID: "br-p", ExpiresAt: &later}, "cannot create a child of branch br-p"},
		{Create{ExpiresAt: &later, Protected: &yes}, metastore.Branch{}, "expires_at cannot be set on a protected branch"},
		{Create{ExpiresAt: &now}, metastore.Branch{}, "expires_at must be in the future"},
	} {
		_, err := CheckCreate(tc.in, tc.parent, now)
		wantInvalid(t, err, tc.has)
	}
}

func TestCheckRestore(t *testing.T) {
	parent := metastore.Branch{ID: "br-parent"}
	child := metastore.Branch{ID: "br-child", ParentID: &parent.ID}
	protected := child
	protected.Protected = true
	restored := metastore.Branch{ID: "br-restored", RestoreStatus: "restored"}
	keep := Restore{PreserveUnderName: "backup"}
	for _, tc := range []struct {
		name           string
		in             Restore
		target, source metastore.Branch
		atPoint        bool
		children       int
		has            string // "": allowed
	}{
		{"from its parent", Restore{}, child, parent, false, 0, ""},
		{"to its own past, kept", keep, child, child, true, 0, ""},
		{"to its own head", keep, child, child, false, 0, "needs source_timestamp or source_lsn"},
		{"to its own past, not kept", Restore{}, child, child, true, 0, "needs preserve_under_name"},
		{"with children, not kept", Restore{}, child, parent, false, 2, "has child branches"},
		{"protected from its parent", keep, protected, parent, false, 0, "cannot be reset from its parent"},
		{"protected to its parent's past", keep, protected, parent, true, 0, ""},
		{"restored, to a point", keep, restored, parent, true, 0, "still ongoing"},
		{"restored, to a head", keep, restored, parent, false, 0, ""},
		{"long backup name", Restore{PreserveUnderName: strings.Repeat("n", MaxName+1)}, child, parent, false, 0, "at most 256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckRestore(tc.in, tc.target, tc.source, tc.atPoint, tc.children)
			if tc.has == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantInvalid(t, err, tc.has)
		})
	}
}

func TestOldName(t *testing.T) {
	now := time.Date(2026, 4, 15, 10, 0, 0, 0, time.UTC)
	main := metastore.Branch{Name: "main"}
	if got := OldName(main, []metastore.Branch{main, {Name: "dev (old)"}, {Name: "MAIN (old)"}}, now); got != "main (old)" {
		t.Errorf("OldName = %q", got)
	}
	if got := OldName(main, []metastore.Branch{main, {Name: "main (old)"}}, now); got != "main (old 2026-04-15T10:00:00Z)" {
		t.Errorf("OldName with the name taken = %q", got)
	}
}
