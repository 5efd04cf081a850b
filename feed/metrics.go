package feed

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the Handler's Prometheus metrics, on a registry of its own.
type metrics struct {
	registry     *prometheus.Registry
	requests     *prometheus.CounterVec
	counters     sync.Map // requestKey -> prometheus.Counter: the labels hashed once, not per request
	published    prometheus.Gauge
	scheduled    prometheus.Gauge
	tombstones   prometheus.Gauge
	renders      prometheus.Histogram
	renderErrors prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dropfeed_http_requests_total",
			Help: "HTTP requests by route pattern and status code; code=\"304\" over all gives the ratio of polls answered Not Modified.",
		}, []string{"route", "code"}),
		published: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dropfeed_articles_published",
			Help: "Articles published in the current version.",
		}),
		scheduled: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dropfeed_articles_unpublished",
			Help: "Articles known but not published: drafts and articles dated in the future.",
		}),
		tombstones: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dropfeed_tombstones",
			Help: "Deleted articles announced in the Atom feed.",
		}),
		renders: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "dropfeed_render_duration_seconds",
			Help:    "Time taken to render and swap in a new version of all documents.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		renderErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dropfeed_render_errors_total",
			Help: "Renders that failed, leaving the previous version served.",
		}),
	}
	m.registry.MustRegister(m.requests, m.published, m.scheduled, m.tombstones, m.renders, m.renderErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// handler serves the registry in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// countRequest counts one request by its route pattern ("" when no route
// matched) and status code.
func (m *metrics) countRequest(pattern string, status int) {
	key := requestKey{pattern, status}
	c, ok := m.counters.Load(key)
	if !ok {
		if pattern == "" {
			pattern = "unmatched"
		}
		// Patterns are the mux's, statuses few: the map stays small.
		c, _ = m.counters.LoadOrStore(key, m.requests.WithLabelValues(pattern, strconv.Itoa(status)))
	}
	c.(prometheus.Counter).Inc()
}

// requestKey is the labels of one request counter.
type requestKey struct {
	pattern string
	status  int
}

// observeRender records one successful render.
func (m *metrics) observeRender(took time.Duration, published, unpublished, tombstones int) {
	m.renders.Observe(took.Seconds())
	m.published.Set(float64(published))
	m.scheduled.Set(float64(unpublished))
	m.tombstones.Set(float64(tombstones))
}

// statusRecorder remembers the status code a handler sends.
type statusRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wroteHeader {
		s.status, s.wroteHeader = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wroteHeader = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter {
	return s.ResponseWriter
}
