// Package metrics is the local server's Prometheus metrics: requests by
// route and status with their latency, bytes uploaded and downloaded, the
// sync job's backlog and last run (read from PostgreSQL at each scrape),
// and the bcrypt queue.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
)

// Source is where the sync figures come from (postgres.DB).
type Source interface {
	Pending(ctx context.Context) (postgres.PendingStats, error)
	LastSyncRun(ctx context.Context) (*postgres.SyncRun, error)
}

// Queue reports the bcrypt slots in use and the callers waiting for one
// (auth.Auth.Queue).
type Queue func() (running, waiting int)

// Metrics holds the registry and the figures the API records.
type Metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	uploaded   *prometheus.CounterVec
	downloaded prometheus.Counter
}

// New registers every metric; src and queue are read at each scrape.
func New(src Source, queue Queue, logger *slog.Logger) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hybrid_http_requests_total",
			Help: "API requests by route (the route table's pattern; \"unmatched\" for no route), method (\"other\" past the standard ones) and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hybrid_http_request_duration_seconds",
			Help:    "API request latency by route, to the end of the response.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"route"}),
		uploaded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hybrid_uploaded_bytes_total",
			Help: "Bytes of files stored by uploads, by path (stream: through the API; presigned: parts sent straight to the hot tier).",
		}, []string{"path"}),
		downloaded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hybrid_downloaded_bytes_total",
			Help: "Bytes of files streamed by downloads through the API (presigned downloads are not seen).",
		}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.uploaded, m.downloaded,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&syncCollector{src: src, logger: logger})
	if queue != nil {
		m.reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "hybrid_bcrypt_running", Help: "Password hashes and checks running now."},
				func() float64 { r, _ := queue(); return float64(r) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "hybrid_bcrypt_waiting", Help: "Password checks waiting for a bcrypt slot (past the queue's size they get 503)."},
				func() float64 { _, w := queue(); return float64(w) }))
	}
	for _, p := range []string{"stream", "presigned"} {
		m.uploaded.WithLabelValues(p)
	}
	return m
}

// ObserveRequest records one answered request. Every label comes from a
// fixed set, whatever the client sends: route is a pattern of the route
// table ("unmatched" for none), method one of methods ("other" for any
// other), status a code the server chose.
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, methodLabel(method), strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// methods are the request methods the method label names; a client may
// send any token as a method, and each would otherwise be a series kept
// for the process's life.
var methods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions}

func methodLabel(m string) string {
	if slices.Contains(methods, m) {
		return m
	}
	return "other"
}

// AddUploaded counts the bytes of a stored upload.
func (m *Metrics) AddUploaded(path string, n int64) { m.uploaded.WithLabelValues(path).Add(float64(n)) }

// AddDownloaded counts the bytes of a streamed download.
func (m *Metrics) AddDownloaded(n int64) { m.downloaded.Add(float64(n)) }

// Handler answers the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, Timeout: 10 * time.Second})
}

// syncCollector reads the sync figures from PostgreSQL at each scrape
// (within 3 s); when it cannot, hybrid_sync_metrics_up is 0 and the other
// sync figures are missing rather than wrong.
type syncCollector struct {
	src    Source
	logger *slog.Logger
}

var (
	descUp          = prometheus.NewDesc("hybrid_sync_metrics_up", "1 when the sync figures could be read from PostgreSQL at this scrape.", nil, nil)
	descPendingN    = prometheus.NewDesc("hybrid_sync_pending_files", "Files waiting in the hot tier for the sync job.", nil, nil)
	descPendingB    = prometheus.NewDesc("hybrid_sync_pending_bytes", "Bytes of the files waiting in the hot tier.", nil, nil)
	descLag         = prometheus.NewDesc("hybrid_sync_lag_seconds", "Age of the oldest file waiting in the hot tier (0: none waits).", nil, nil)
	descLastStart   = prometheus.NewDesc("hybrid_sync_last_run_start_timestamp_seconds", "Start of the last sync run (Unix time).", nil, nil)
	descLastEnd     = prometheus.NewDesc("hybrid_sync_last_run_end_timestamp_seconds", "End of the last sync run (Unix time; 0 while it runs).", nil, nil)
	descLastDur     = prometheus.NewDesc("hybrid_sync_last_run_duration_seconds", "Duration of the last finished sync run.", nil, nil)
	descLastStatus  = prometheus.NewDesc("hybrid_sync_last_run_status", "1 for the status of the last sync run (running, succeeded, partial, failed).", []string{"status"}, nil)
	descLastSynced  = prometheus.NewDesc("hybrid_sync_last_run_synced_files", "Files the last sync run moved.", nil, nil)
	descLastFailed  = prometheus.NewDesc("hybrid_sync_last_run_failed_files", "Files the last sync run failed to move.", nil, nil)
	descLastBytes   = prometheus.NewDesc("hybrid_sync_last_run_bytes", "Bytes the last sync run moved.", nil, nil)
	runStatuses     = []string{"running", "succeeded", "partial", "failed"}
	syncDescriptors = []*prometheus.Desc{descUp, descPendingN, descPendingB, descLag, descLastStart, descLastEnd,
		descLastDur, descLastStatus, descLastSynced, descLastFailed, descLastBytes}
)

func (c *syncCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range syncDescriptors {
		ch <- d
	}
}

func (c *syncCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	p, err := c.src.Pending(ctx)
	var run *postgres.SyncRun
	if err == nil {
		run, err = c.src.LastSyncRun(ctx)
	}
	if err != nil {
		c.logger.Warn("metrics: sync figures unavailable", "err", err.Error())
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 0)
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(descUp, 1)
	gauge(descPendingN, float64(p.Files))
	gauge(descPendingB, float64(p.Bytes))
	lag := 0.0
	if p.Oldest != nil {
		lag = max(0, time.Since(*p.Oldest).Seconds())
	}
	gauge(descLag, lag)
	if run == nil {
		return
	}
	gauge(descLastStart, float64(run.StartedAt.UnixMilli())/1000)
	end := 0.0
	if run.FinishedAt != nil {
		end = float64(run.FinishedAt.UnixMilli()) / 1000
		gauge(descLastDur, run.FinishedAt.Sub(run.StartedAt).Seconds())
	}
	gauge(descLastEnd, end)
	for _, s := range runStatuses {
		v := 0.0
		if s == run.Status {
			v = 1
		}
		gauge(descLastStatus, v, s)
	}
	gauge(descLastSynced, float64(run.Synced))
	gauge(descLastFailed, float64(run.Failed))
	gauge(descLastBytes, float64(run.Bytes))
}
