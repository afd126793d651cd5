package metrics_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"xmppd/adapters/metrics"
)

// Compile-time checks: Metrics is what c2s and the SQLite store hear
// through (their interfaces, restated here so this package imports neither).
var _ interface {
	StanzaIn(string)
	StanzaOut(string)
	AuthFailed(string)
	AuthThrottled(string)
	Appended(time.Duration)
	Committed(int, time.Duration)
	CommitFailed()
} = (*metrics.Metrics)(nil)

// gather returns every sample of the registry as "name{label=value}" ->
// value (a histogram's sample count for histograms).
func gather(t *testing.T, m *metrics.Metrics) map[string]float64 {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			key := mf.GetName()
			for _, lp := range mt.GetLabel() {
				key += "{" + lp.GetName() + "=" + lp.GetValue() + "}"
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				out[key] = mt.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[key] = mt.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[key] = float64(mt.GetHistogram().GetSampleCount())
				out[key+"_sum"] = mt.GetHistogram().GetSampleSum()
			}
		}
	}
	return out
}

func TestCountersHistogramsAndGauges(t *testing.T) {
	m := metrics.New()
	m.StanzaIn("message")
	m.StanzaIn("message")
	m.StanzaIn("presence")
	m.StanzaIn("stream:features") // not a stanza kind: not counted, no label
	m.StanzaOut("iq")
	m.AuthFailed("PLAIN")
	m.AuthFailed("X-CLIENT-CHOSE-THIS")
	m.Appended(3 * time.Millisecond)
	m.Appended(5 * time.Millisecond)
	m.Committed(7, time.Millisecond)
	m.Watch(func() metrics.Status {
		return metrics.Status{Running: true, ViewsAlive: true, Applied: 40, Sessions: 2, QueuedStanzas: 5, QueuedCommands: 1}
	}, func(context.Context) (uint64, error) { return 43, nil })

	got := gather(t, m)
	want := map[string]float64{
		"xmppd_c2s_stanzas_in_total{kind=message}":               2,
		"xmppd_c2s_stanzas_in_total{kind=presence}":              1,
		"xmppd_c2s_stanzas_in_total{kind=iq}":                    0,
		"xmppd_c2s_stanzas_out_total{kind=iq}":                   1,
		"xmppd_c2s_auth_failures_total{mechanism=PLAIN}":         1,
		"xmppd_c2s_auth_failures_total{mechanism=other}":         1,
		"xmppd_c2s_auth_failures_total{mechanism=SCRAM-SHA-256}": 0,
		"xmppd_store_append_seconds":                             2,
		"xmppd_store_append_seconds_sum":                         0.008,
		"xmppd_store_commit_events":                              1,
		"xmppd_store_commit_events_sum":                          7,
		"xmppd_store_commit_seconds":                             1,
		"xmppd_up":                                               1,
		"xmppd_c2s_sessions":                                     2,
		"xmppd_c2s_queued_stanzas":                               5,
		"xmppd_actor_queued_commands":                            1,
		"xmppd_views_applied_position":                           40,
		"xmppd_views_lag_events":                                 3,
	}
	for k, v := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s missing", k)
			continue
		}
		if diff := g - v; diff > 1e-9 || diff < -1e-9 {
			t.Errorf("%s = %v, want %v", k, g, v)
		}
	}
	for k := range got {
		if strings.Contains(k, "stream:features") || strings.Contains(k, "X-CLIENT") {
			t.Errorf("unbounded label value exported: %s", k)
		}
	}
	if _, ok := got["go_goroutines"]; !ok {
		t.Error("Go runtime collector missing")
	}
	if _, ok := got["process_open_fds"]; !ok {
		t.Error("process collector missing")
	}
}

// A head the store cannot read spoils only the lag, not the scrape.
func TestLagErrorKeepsTheRest(t *testing.T) {
	m := metrics.New()
	m.Watch(func() metrics.Status { return metrics.Status{Sessions: 1} },
		func(context.Context) (uint64, error) { return 0, errors.New("store closed") })
	rec := httptest.NewRecorder()
	m.Handler(nil, metrics.Options{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	if !strings.Contains(body, "xmppd_c2s_sessions 1") {
		t.Errorf("sessions gauge missing from a scrape with a failed head:\n%s", body)
	}
	if strings.Contains(body, "xmppd_views_lag_events ") {
		t.Errorf("lag reported although the head could not be read")
	}
}

func TestHealthz(t *testing.T) {
	for _, tc := range []struct {
		name   string
		st     metrics.Status
		code   int
		status string
	}{
		{"serving", metrics.Status{Running: true, ViewsAlive: true, Applied: 12, Sessions: 3}, 200, "ok"},
		{"starting or stopping", metrics.Status{ViewsAlive: true, Applied: 12}, 503, "unavailable"},
		{"views stopped", metrics.Status{Running: true, Applied: 12}, 503, "unavailable"},
		{"store writable", metrics.Status{Running: true, ViewsAlive: true, Applied: 12, Store: &metrics.StoreHealth{Writable: true}}, 200, "ok"},
		{"store refuses writes", metrics.Status{Running: true, ViewsAlive: true, Applied: 12,
			Store: &metrics.StoreHealth{Reason: "database or disk is full", Since: time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)}}, 503, "unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := metrics.New()
			h := m.Handler(func() metrics.Status { return tc.st }, metrics.Options{})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
			if rec.Code != tc.code {
				t.Errorf("code %d, want %d", rec.Code, tc.code)
			}
			var body struct {
				Status   string
				Reason   string
				Position uint64
				Sessions int
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("%q: %v", rec.Body, err)
			}
			if body.Status != tc.status || body.Position != tc.st.Applied || body.Sessions != tc.st.Sessions {
				t.Errorf("body %+v for %+v", body, tc.st)
			}
			if (tc.code == 200) != (body.Reason == "") {
				t.Errorf("reason %q with code %d", body.Reason, rec.Code)
			}
		})
	}
}

// While the store refuses writes /healthz says since when and why, in
// one line; xmppd_up and xmppd_store_writable drop to 0, and each failed
// commit is counted.
func TestStoreRefusingWrites(t *testing.T) {
	m := metrics.New()
	since := time.Date(2026, 3, 1, 9, 30, 0, 0, time.FixedZone("CET", 3600))
	st := metrics.Status{Running: true, ViewsAlive: true, Store: &metrics.StoreHealth{Reason: "database or disk is full", Since: since}}
	status := func() metrics.Status { return st }
	m.Watch(status, nil)
	m.CommitFailed()
	m.CommitFailed()
	rec := httptest.NewRecorder()
	m.Handler(status, metrics.Options{}).ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	var body struct{ Status, Reason string }
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if want := "store refuses writes since 2026-03-01T08:30:00Z: database or disk is full"; rec.Code != 503 || body.Reason != want {
		t.Errorf("healthz %d %q, want 503 %q", rec.Code, body.Reason, want)
	}
	got := gather(t, m)
	for k, v := range map[string]float64{"xmppd_up": 0, "xmppd_store_writable": 0, "xmppd_store_write_failures_total": 2} {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}

	st.Store = &metrics.StoreHealth{Writable: true, Since: since}
	got = gather(t, m)
	for k, v := range map[string]float64{"xmppd_up": 1, "xmppd_store_writable": 1} {
		if g := got[k]; g != v {
			t.Errorf("recovered: %s = %v, want %v", k, g, v)
		}
	}
	st.Store = nil
	if _, ok := gather(t, m)["xmppd_store_writable"]; ok {
		t.Error("xmppd_store_writable exported for a store that does not report its health")
	}
}

// Profiles are served only when enabled, and the listener stops on
// Shutdown.
func TestListenPprofAndShutdown(t *testing.T) {
	for _, pprof := range []bool{false, true} {
		m := metrics.New()
		srv, err := metrics.Listen("127.0.0.1:0", m.Handler(nil, metrics.Options{Pprof: pprof}))
		if err != nil {
			t.Fatal(err)
		}
		base := "http://" + srv.Addr().String()
		get := func(path string) int {
			t.Helper()
			resp, err := http.Get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.StatusCode
		}
		if code := get("/metrics"); code != 200 {
			t.Errorf("/metrics: %d", code)
		}
		if code := get("/healthz"); code != 503 {
			t.Errorf("/healthz with no status: %d, want 503", code)
		}
		want := 404
		if pprof {
			want = 200
		}
		for _, p := range []string{"/debug/pprof/", "/debug/pprof/goroutine?debug=1", "/debug/pprof/cmdline"} {
			if code := get(p); code != want {
				t.Errorf("pprof %v: %s: %d, want %d", pprof, p, code, want)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		cancel()
		if _, err := http.Get(base + "/metrics"); err == nil {
			t.Errorf("still serving after Shutdown")
		}
	}
}
