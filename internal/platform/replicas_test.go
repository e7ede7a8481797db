package platform

import (
	"slices"
	"testing"

	"github.com/grovedb/grove/internal/ids"
	"github.com/grovedb/grove/internal/metastore"
)

func TestReplicaVolume(t *testing.T) {
	for _, id := range []string{"ep-cool-rain-a1b2c3d4", ids.NewEndpoint()} {
		v := replicaVolume(id)
		if v != "ro-"+id || len(v) > 63 || v == ids.NewVolume() {
			t.Errorf("replicaVolume(%q) = %q", id, v)
		}
	}
}

func TestPrimaryFirst(t *testing.T) {
	ep := func(id, typ string) metastore.Endpoint { return metastore.Endpoint{ID: id, Type: typ} }
	tests := []struct {
		name string
		in   []metastore.Endpoint
		want []string
	}{
		{"none", nil, []string{}},
		{"replicas only", []metastore.Endpoint{ep("a", "read_only"), ep("b", "read_only")}, []string{"a", "b"}},
		{"primary last", []metastore.Endpoint{ep("a", "read_only"), ep("b", "read_only"), ep("c", "read_write")}, []string{"c", "a", "b"}},
		{"primary first", []metastore.Endpoint{ep("c", "read_write"), ep("a", "read_only")}, []string{"c", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, e := range primaryFirst(tt.in) {
				got = append(got, e.ID)
			}
			if !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Fatalf("primaryFirst = %v, want %v", got, tt.want)
			}
		})
	}
}
