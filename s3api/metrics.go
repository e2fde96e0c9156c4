package s3api

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics is the gateway's Prometheus metric set. A nil *metrics (no
// registry) records nothing.
type metrics struct {
	requests *prometheus.CounterVec   // by op and HTTP status
	bytesIn  *prometheus.CounterVec   // request body bytes by op
	bytesOut *prometheus.CounterVec   // response body bytes by op
	latency  *prometheus.HistogramVec // seconds by op
}

func newMetrics(reg prometheus.Registerer) *metrics {
	if reg == nil {
		return nil
	}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "tessera", Subsystem: "s3", Name: "requests_total",
			Help: "S3 requests by operation and HTTP status code.",
		}, []string{"op", "code"}),
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "tessera", Subsystem: "s3", Name: "received_bytes_total",
			Help: "Request body bytes received, by operation.",
		}, []string{"op"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "tessera", Subsystem: "s3", Name: "sent_bytes_total",
			Help: "Response body bytes sent, by operation.",
		}, []string{"op"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "tessera", Subsystem: "s3", Name: "request_duration_seconds",
			Help:    "S3 request latency by operation, until the handler returns.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
		}, []string{"op"}),
	}
	reg.MustRegister(m.requests, m.bytesIn, m.bytesOut, m.latency)
	return m
}

func (m *metrics) observe(op string, status int, in, out int64, d time.Duration) {
	if m == nil {
		return
	}
	if status == 0 {
		status = 200
	}
	m.requests.WithLabelValues(op, strconv.Itoa(status)).Inc()
	if in > 0 {
		m.bytesIn.WithLabelValues(op).Add(float64(in))
	}
	if out > 0 {
		m.bytesOut.WithLabelValues(op).Add(float64(out))
	}
	m.latency.WithLabelValues(op).Observe(d.Seconds())
}
