// Package metrics exposes xmppd's Prometheus metrics, its health check and,
// when enabled, Go's profiles, on one HTTP listener.
//
// It owns the registry (no package globals: each Metrics has its own) and
// the metric names. The other packages never import Prometheus: c2s and
// the SQLite store declare small interfaces (c2s.Metrics,
// sqlite.Observer) that *Metrics satisfies, and the gauges are sampled at
// scrape time from a StatusFunc, so the hot paths pay one atomic add per
// counted thing and nothing for the gauges.
//
//	/metrics        Prometheus text format
//	/healthz        200 {"status":"ok",...} while serving with live views and a
//	                store that commits writes, 503 {"reason":...} otherwise
//	/debug/pprof/   net/http/pprof, only with Options.Pprof
package metrics
