package apispec

import "sync"

// Hit is a response that passed validation: the spec operation it answered
// (method and the spec's templated path, e.g. "/projects/{project_id}") and
// its status.
type Hit struct {
	Method      string
	Path        string
	OperationID string
	Status      int
}

var hits struct {
	mu   sync.Mutex
	list []Hit
}

func record(h Hit) {
	hits.mu.Lock()
	hits.list = append(hits.list, h)
	hits.mu.Unlock()
}

// Hits returns the responses validated without a mismatch so far in this
// process, in order. A test measures its own coverage by taking
// len(Hits()) when it starts and reading Hits()[n:] at its end.
func Hits() []Hit {
	hits.mu.Lock()
	defer hits.mu.Unlock()
	return append([]Hit(nil), hits.list...)
}
