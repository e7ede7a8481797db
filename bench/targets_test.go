package bench

import (
	"strings"
	"testing"
)

// bound is a figure's target: the metric must be at most (or, with atLeast,
// at least) limit.
type bound struct {
	limit   float64
	atLeast bool
}

// targets are the README's targets, by benchmark and metric. A metric
// reported through metric is checked against its target: the benchmark
// logs ✔ or ✘ and reports <metric>_met (1 or 0), which is where the
// README's marks come from.
var targets = map[string]map[string]bound{
	"BenchmarkProjectCreate": {
		"create_to_query_p50_ms": {limit: 50}, "create_to_query_p99_ms": {limit: 150},
	},
	"BenchmarkProjectCreateBurst": {
		"burst1_over_paced": {limit: 1.3}, "burst4_over_paced": {limit: 2},
		"burst1_p99_ms": {limit: 150}, "burst4_p99_ms": {limit: 150},
	},
	"BenchmarkColdStart":      {"cold_over_floor": {limit: 1.5}},
	"BenchmarkDiskPerProject": {"exclusive_KiB_per_project": {limit: 1024}},
	"BenchmarkCreateMany":     {"projects_per_s": {limit: 20, atLeast: true}, "unreachable": {limit: 0}},
	"BenchmarkListProjects": {
		"list_page_org_p50_ms": {limit: 20}, "list_page_all_orgs_p50_ms": {limit: 20}, "list_search_p50_ms": {limit: 20},
	},
	"BenchmarkMetadataCalls": {"metadata_calls_p50_ms": {limit: 5}},
	"BenchmarkProxyLatency": {
		"added_us_median": {limit: 25}, "proxy8_over_pgbouncer8_median": {limit: 1, atLeast: true},
	},
	"BenchmarkDataAPI": {
		"rest_row_over_floor_p50": {limit: 1.5}, "rest_rows_per_s_32": {limit: 5000, atLeast: true},
		"rest_embed100_over_sql_p50": {limit: 2},
	},
	"BenchmarkBranchCreate": {
		"branch_to_query_empty_p50_ms": {limit: 100}, "branch_to_query_1GiB_p50_ms": {limit: 100},
		"big_over_empty": {limit: 1.2},
	},
	"BenchmarkBranchBusyParent":  {"busy_branch_to_query_p50_ms": {limit: 150}, "first_branch_ms": {limit: 1000}},
	"BenchmarkSnapshotCreate":    {"snapshot_empty_p50_ms": {limit: 20}, "snapshot_1GiB_p50_ms": {limit: 20}},
	"BenchmarkFinalizeRestore":   {"restore_to_query_p50_ms": {limit: 300}},
	"BenchmarkPITRBranch":        {"pitr_to_query_p50_ms": {limit: 2000}},
	"BenchmarkCheckpoints":       {"exclusive_MiB_per_100_checkpoints": {limit: 10}},
	"BenchmarkPooledPgbench":     {"pooled_over_direct": {limit: 0.8, atLeast: true}},
	"BenchmarkAutoscaleReaction": {"autoscale_reaction_p50_ms": {limit: 5000}},
	"BenchmarkTransfer400":       {"ms/transfer400": {limit: 1000}},
	"BenchmarkMeteringOverhead":  {"metered_over_unmetered_median": {limit: 0.98, atLeast: true}},
	"BenchmarkRestartAdopt":      {"api_answering_s": {limit: 2}, "proxy_answering_s": {limit: 2}},
	"BenchmarkWebSocket":         {"ws_over_tcp_p50": {limit: 1.2}},
	"BenchmarkSQLOverHTTP":       {"http_over_floor_p50": {limit: 1.3}, "http_queries_per_s_32": {limit: 5000, atLeast: true}},
}

// metric reports v as b.ReportMetric does and checks it against its target.
func metric(b *testing.B, v float64, unit string) {
	b.Helper()
	b.ReportMetric(v, unit)
	name, _, _ := strings.Cut(b.Name(), "/")
	t, ok := targets[name][unit]
	if !ok {
		return
	}
	met, rel := v <= t.limit, "≤"
	if t.atLeast {
		met, rel = v >= t.limit, "≥"
	}
	mark, one := "✘", 0.0
	if met {
		mark, one = "✔", 1
	}
	b.Logf("%s %s = %.4g (target %s %g)", mark, unit, v, rel, t.limit)
	metUnit := unit + "_met"
	if strings.Contains(unit, "/") { // ReportMetric's units may not hold a second slash
		metUnit = strings.ReplaceAll(unit, "/", "_per_") + "_met"
	}
	b.ReportMetric(one, metUnit)
}
