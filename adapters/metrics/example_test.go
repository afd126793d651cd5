package metrics_test

import (
	"fmt"
	"net/http/httptest"

	"xmppd/adapters/metrics"
)

func ExampleMetrics_Handler() {
	m := metrics.New()
	status := func() metrics.Status {
		return metrics.Status{Running: true, ViewsAlive: true, Applied: 1042, Sessions: 7}
	}
	m.Watch(status, nil)
	rec := httptest.NewRecorder()
	m.Handler(status, metrics.Options{}).ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output: 200 {"status":"ok","position":1042,"sessions":7}
}
