package proxy

import (
	_ "embed"
	"net/http"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/faults"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Control is the proxy's HTTP API: the journal, server-sent events, rule
// counters, Prometheus metrics and a live ladder page of the traffic. Bind
// it to loopback. It is safe for concurrent use.
type Control struct {
	p     *Proxy
	j     *acquirer.MemJournal
	rules *faults.Faults
	hub   *acquirer.Hub
	mux   *http.ServeMux
	msgs  *prometheus.CounterVec
	fault prometheus.Counter
	bad   prometheus.Counter
}

//go:embed ladder.html
var ladderPage []byte

// NewControl returns the control API of p, whose journal must be an
// in-memory one (the default). rules may be nil.
func NewControl(p *Proxy, rules *faults.Faults) (*Control, error) {
	j, ok := p.cfg.Journal.(*acquirer.MemJournal)
	if !ok {
		return nil, errNeedMemJournal
	}
	c := &Control{p: p, j: j, rules: rules, hub: acquirer.NewHub(), mux: http.NewServeMux()}
	reg := prometheus.NewRegistry()
	c.msgs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "posim_proxy_messages_total",
		Help: "Messages through the proxy, by direction (from terminal, to host, from host, to terminal), MTI and response code."}, []string{"direction", "mti", "rc"})
	c.fault = prometheus.NewCounter(prometheus.CounterOpts{Name: "posim_proxy_faults_total", Help: "Fault actions fired by rules, and host problems."})
	c.bad = prometheus.NewCounter(prometheus.CounterOpts{Name: "posim_proxy_undecoded_frames_total", Help: "Frames passed through without being decoded."})
	conns := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "posim_proxy_connections", Help: "Open terminal connections."},
		func() float64 { return float64(p.Conns()) })
	reg.MustRegister(c.msgs, c.fault, c.bad, conns, ruleCollector{rules},
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector())
	j.OnAppend(c.observe)
	c.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(ladderPage)
	})
	c.mux.HandleFunc("GET /journal", c.journal)
	c.mux.HandleFunc("GET /rules", func(w http.ResponseWriter, _ *http.Request) {
		stats := []faults.RuleStats{}
		if rules != nil {
			stats = rules.Stats()
		}
		acquirer.WriteJSON(w, stats)
	})
	c.mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		acquirer.StreamEvents(w, r, c.hub, p.ctx.Done())
	})
	c.mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return c, nil
}

type controlError string

func (e controlError) Error() string { return string(e) }

const errNeedMemJournal = controlError("proxy control API needs the in-memory journal")

func (c *Control) observe(e acquirer.Entry) {
	switch e.Kind {
	case acquirer.KindIn, acquirer.KindOut:
		c.msgs.WithLabelValues(e.Detail, e.MTI, e.RC).Inc()
	case acquirer.KindFault:
		c.fault.Inc()
	case acquirer.KindBadFrame:
		c.bad.Inc()
	}
	c.hub.Publish(e)
}

// ServeHTTP serves the API.
func (c *Control) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.mux.ServeHTTP(w, r) }

// journal answers GET /journal?kind=&tid=&stan=&mti=&after=SEQ&limit=N.
func (c *Control) journal(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, limit, err := acquirer.PageArgs(q.Get("after"), q.Get("limit"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	entries := c.j.List(acquirer.Filter{Kind: q.Get("kind"), TID: q.Get("tid"), STAN: q.Get("stan"), MTI: q.Get("mti")})
	kept := entries[:0]
	for _, e := range entries {
		if e.Seq > after && (limit == 0 || len(kept) < limit) {
			kept = append(kept, e)
		}
	}
	acquirer.WriteJSON(w, kept)
}

// ruleCollector exports each rule's matches and fires.
type ruleCollector struct{ rules *faults.Faults }

var (
	ruleMatched = prometheus.NewDesc("posim_proxy_rule_matched_total", "Requests a rule's trigger matched.", []string{"rule"}, nil)
	ruleFired   = prometheus.NewDesc("posim_proxy_rule_fired_total", "Requests a rule fired on.", []string{"rule"}, nil)
)

func (rc ruleCollector) Describe(ch chan<- *prometheus.Desc) { ch <- ruleMatched; ch <- ruleFired }

func (rc ruleCollector) Collect(ch chan<- prometheus.Metric) {
	if rc.rules == nil {
		return
	}
	for _, st := range rc.rules.Stats() {
		ch <- prometheus.MustNewConstMetric(ruleMatched, prometheus.CounterValue, float64(st.Matched), st.ID)
		ch <- prometheus.MustNewConstMetric(ruleFired, prometheus.CounterValue, float64(st.Fired), st.ID)
	}
}
