package dataapi

import (
	"net/http/httptest"
	"testing"
)

func TestRoute(t *testing.T) {
	tests := []struct {
		domain, host, path string
		want               route
		ok                 bool
	}{
		{"", "127.0.0.1:8081", "/ep-a-1/neondb/rest/v1/todos", route{"ep-a-1", "neondb", "/todos"}, true},
		{"", "127.0.0.1:8081", "/ep-a-1/neondb/rest/v1/rpc/add", route{"ep-a-1", "neondb", "/rpc/add"}, true},
		{"", "127.0.0.1:8081", "/ep-a-1/neondb/rest/v1", route{"ep-a-1", "neondb", "/"}, true},
		{"", "127.0.0.1:8081", "/ep-a-1/neondb/rest/v1/", route{"ep-a-1", "neondb", "/"}, true},
		{"", "127.0.0.1:8081", "/ep-a-1/app%20db/rest/v1/t%C3%A9", route{"ep-a-1", "app db", "/té"}, true},
		{"", "127.0.0.1:8081", "/ep-a-1/neondb/rest/v2/todos", route{}, false},
		{"", "127.0.0.1:8081", "/ep-a-1/neondb/rest", route{}, false},
		{"", "127.0.0.1:8081", "/sql", route{}, false},
		{"", "127.0.0.1:8081", "/neondb/rest/v1/todos", route{}, false},
		{"grove.test", "ep-a-1.apirest.us-east-2.aws.grove.test", "/neondb/rest/v1/todos", route{"ep-a-1", "neondb", "/todos"}, true},
		{"grove.test", "ep-a-1.apirest.us-east-2.aws.grove.test:8443", "/neondb/rest/v1/todos", route{"ep-a-1", "neondb", "/todos"}, true},
		{"grove.test", "localhost:8081", "/ep-a-1/neondb/rest/v1/todos", route{"ep-a-1", "neondb", "/todos"}, true},
		{"grove.test", "ep-a-1.us-east-2.aws.grove.test", "/neondb/rest/v1/todos", route{}, false},
	}
	for _, tt := range tests {
		h := &Handler{cfg: Config{Domain: tt.domain}}
		r := httptest.NewRequest("GET", "http://"+tt.host+tt.path, nil)
		got, ok := h.Route(r)
		if ok != tt.ok || got != tt.want {
			t.Errorf("%s%s: %+v %v, want %+v %v", tt.host, tt.path, got, ok, tt.want, tt.ok)
		}
	}
}
