package metastore

import "context"

// CountEndpoints counts every endpoint, for metrics (computes not running
// are suspended).
func (s *Store) CountEndpoints(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM endpoints`).Scan(&n)
	return n, mapErr("count endpoints", err)
}
