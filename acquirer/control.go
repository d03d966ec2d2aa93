package acquirer

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ScenarioLoader turns a scenario file's content into what it sets on a
// running acquirer. The scenarios package provides one; the acquirer does
// not know the scenario format.
type ScenarioLoader func(name string, data []byte) (Setup, error)

// Setup is what a scenario sets on a running acquirer: its handler (fault
// rules), its policies and, when it has a back office, the cut-over and
// the merchants' contracts. Nil fields leave the acquirer's as they are.
type Setup struct {
	Handler    Handler
	Policies   *Policies
	BackOffice *BackOffice
}

// BackOffice is the business day's cut-over (time of day) and the
// merchants' contracts.
type BackOffice struct {
	Cutover   time.Duration
	Contracts []Contract
}

// Hub fans journal entries out to subscribers (the control API's event
// stream). Publishing costs the same however many subscribe: the entry is
// stored in a ring of the newest events. Every StreamInterval one
// broadcaster takes what was published since, at most the StreamBudget's
// share (the newest), marshals it once into a chunk of server-sent events,
// and hands the same chunk to every subscriber; a subscriber too slow for a
// chunk loses it rather than slowing the host. It is safe for concurrent
// use.
type Hub struct {
	n   atomic.Int32 // subscribers
	max atomic.Int32

	mu     sync.Mutex
	ring   []Entry
	next   int64 // entries published so far: the next goes to ring[next%len]
	cursor int64 // the broadcaster's: the next entry to send
	subs   map[*Subscription]struct{}
	stop   chan struct{} // ends the broadcaster; nil when none runs
}

// Event is a journal entry ready to stream.
type Event struct {
	Kind string
	Seq  int64
	// Data is the entry as JSON.
	Data []byte
}

// DefaultMaxSubscribers bounds a hub's subscribers unless SetMax says
// otherwise.
const DefaultMaxSubscribers = 100

// hubRing is how many of the newest entries a hub keeps for its
// broadcaster.
const hubRing = 4096

// StreamInterval is how often the subscribers get what was published since
// the last chunk. StreamBudget is how many events a second all the streams
// together carry at most, each chunk its share (the newest; a ": skipped N"
// comment line counts the rest): the streams cost the host a bounded
// amount whatever the traffic and however many subscribe. An exact count of messages is GET /journal's job, not
// the stream's.
const (
	StreamInterval = 250 * time.Millisecond
	StreamBudget   = 5_000
	// StreamMinChunk is the most events a chunk may carry however many
	// subscribe.
	StreamMinChunk = 10
)

// ErrTooManySubscribers: the hub has as many subscribers as it allows.
var ErrTooManySubscribers = errors.New("too many event subscribers")

// NewHub returns an empty hub allowing DefaultMaxSubscribers.
func NewHub() *Hub {
	h := &Hub{ring: make([]Entry, hubRing), subs: map[*Subscription]struct{}{}}
	h.max.Store(DefaultMaxSubscribers)
	return h
}

// SetMax sets how many subscribers the hub allows (0: no bound).
func (h *Hub) SetMax(n int) { h.max.Store(int32(n)) }

// Publish adds e to the ring when anybody subscribes.
func (h *Hub) Publish(e Entry) {
	if h.n.Load() == 0 {
		return
	}
	h.mu.Lock()
	h.ring[h.next%int64(len(h.ring))] = e
	h.next++
	h.mu.Unlock()
}

// Subscription receives a hub's chunks of server-sent events.
type Subscription struct {
	h *Hub
	// C delivers each chunk: one or more events in server-sent event form,
	// shared with the other subscribers (do not modify).
	C    chan []byte
	once sync.Once
}

// Subscribe starts receiving the events published from now on, or fails
// with ErrTooManySubscribers. Close the subscription when done.
func (h *Hub) Subscribe() (*Subscription, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if max := h.max.Load(); max > 0 && int32(len(h.subs)) >= max {
		return nil, ErrTooManySubscribers
	}
	s := &Subscription{h: h, C: make(chan []byte, 8)}
	if len(h.subs) == 0 {
		h.cursor = h.next
		h.stop = make(chan struct{})
		go h.broadcast(h.stop)
	}
	h.subs[s] = struct{}{}
	h.n.Store(int32(len(h.subs)))
	return s, nil
}

// Close ends the subscription.
func (s *Subscription) Close() {
	s.once.Do(func() {
		h := s.h
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.subs, s)
		h.n.Store(int32(len(h.subs)))
		if len(h.subs) == 0 && h.stop != nil {
			close(h.stop)
			h.stop = nil
		}
	})
}

// broadcast sends a chunk every StreamInterval until stop.
func (h *Hub) broadcast(stop chan struct{}) {
	tick := time.NewTicker(StreamInterval)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		if chunk := h.chunk(); chunk != nil {
			h.mu.Lock()
			for s := range h.subs {
				select {
				case s.C <- chunk:
				default: // too slow for this one: it loses it
				}
			}
			h.mu.Unlock()
		}
	}
}

// chunk takes what was published since the last chunk, the newest within
// the budget, and writes it as server-sent events (nil: nothing new).
func (h *Hub) chunk() []byte {
	h.mu.Lock()
	// the budget is for all the streams together: each carries the chunk
	per := max(StreamBudget/int(time.Second/StreamInterval)/max(len(h.subs), 1), StreamMinChunk)
	oldest := max(h.next-int64(len(h.ring)), h.next-int64(per))
	var skipped int64
	if h.cursor < oldest {
		skipped, h.cursor = oldest-h.cursor, oldest
	}
	entries := make([]Entry, 0, h.next-h.cursor)
	for ; h.cursor < h.next; h.cursor++ {
		entries = append(entries, h.ring[h.cursor%int64(len(h.ring))])
	}
	h.mu.Unlock()
	if len(entries) == 0 && skipped == 0 {
		return nil
	}
	var buf bytes.Buffer
	if skipped > 0 {
		fmt.Fprintf(&buf, ": skipped %d\n\n", skipped)
	}
	for _, e := range entries {
		data, err := json.Marshal(e)
		if err != nil {
			continue
		}
		fmt.Fprintf(&buf, "event: %s\nid: %d\ndata: %s\n\n", e.Kind, e.Seq, data)
	}
	return buf.Bytes()
}

// MaxScenarioBody is the largest scenario PUT /scenario takes (413 above).
const MaxScenarioBody = 1 << 20

// ScenarioDeadline bounds how long PUT /scenario may take to load one.
const ScenarioDeadline = 10 * time.Second

// Control is the acquirer's HTTP control API: journal, ledger, scenario
// loading, reset, server-sent events and Prometheus metrics. Bind it to
// loopback. It is safe for concurrent use.
type Control struct {
	a        *Acquirer
	newRules func() (Handler, error)
	load     ScenarioLoader
	hub      *Hub
	reg      *prometheus.Registry
	msgs     *prometheus.CounterVec
	faults   prometheus.Counter
	conns    prometheus.Gauge
	mux      *http.ServeMux
}

// NewControl returns the control API of a; it subscribes to the acquirer's
// in-memory journal, which must be a *MemJournal. load may be nil, in which
// case PUT /scenario answers 501.
func NewControl(a *Acquirer, load ScenarioLoader) (*Control, error) {
	mj, ok := a.journal.(*MemJournal)
	if !ok {
		return nil, fmt.Errorf("control API needs the in-memory journal")
	}
	c := &Control{a: a, load: load, hub: NewHub(), reg: prometheus.NewRegistry(), mux: http.NewServeMux()}
	c.msgs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "posim_messages_total", Help: "Messages received (in) and sent (out) by the acquirer, by MTI and response code."}, []string{"direction", "mti", "rc"})
	c.faults = prometheus.NewCounter(prometheus.CounterOpts{Name: "posim_faults_total", Help: "Fault actions fired by scenario rules."})
	c.conns = prometheus.NewGauge(prometheus.GaugeOpts{Name: "posim_connections", Help: "Open terminal connections."})
	c.reg.MustRegister(c.msgs, c.faults, c.conns,
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector())
	mj.OnAppend(c.observe)
	if cl, ok := a.ConnLog().(*MemJournal); ok && cl != mj {
		cl.OnAppend(c.observe)
	}
	for _, rt := range c.routes() {
		c.mux.Handle(rt.pattern, rt.h)
	}
	return c, nil
}

// route is one call of the control API; the OpenAPI document names the
// same set (a test keeps them in step).
type route struct {
	pattern string // "METHOD /path"
	h       http.Handler
}

// lists writes v as JSON, an empty list rather than null.
func lists[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

func (c *Control) routes() []route {
	f := func(h http.HandlerFunc) http.Handler { return h }
	noParams := func(h http.HandlerFunc) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if onlyParams(w, r) {
				h(w, r)
			}
		})
	}
	return []route{
		{"GET /journal", f(c.journal)},
		{"GET /ledger", f(c.ledger)},
		{"PUT /scenario", noParams(c.scenario)},
		{"POST /reset", noParams(c.reset)},
		{"GET /lines", noParams(func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, lists(c.a.engine.Lines())) })},
		{"GET /fees", noParams(func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, lists(c.a.engine.FeeReport())) })},
		{"GET /statement", f(c.statement)},
		{"GET /disputes", noParams(func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, lists(c.a.engine.Disputes())) })},
		{"GET /events", noParams(c.events)},
		{"GET /rules", f(c.listRules)},
		{"POST /rules", f(c.addRule)},
		{"DELETE /rules/{id}", f(c.deleteRule)},
		{"PATCH /rules/{id}", f(c.patchRule)},
		{"GET /verify", f(c.verify)},
		{"GET /openapi.json", noParams(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(openAPI)
		})},
		{"GET /metrics", promhttp.HandlerFor(c.reg, promhttp.HandlerOpts{})},
	}
}

//go:embed openapi.json
var openAPI []byte

// Hub returns the event hub, for in-process subscribers.
func (c *Control) Hub() *Hub { return c.hub }

func (c *Control) observe(e Entry) {
	switch e.Kind {
	case KindIn, KindOut:
		c.msgs.WithLabelValues(e.Kind, e.MTI, e.RC).Inc()
	case KindFault:
		c.faults.Inc()
	case KindConnection:
		c.conns.Set(float64(c.a.Conns()))
	}
	c.hub.Publish(e)
}

// ServeHTTP serves the API.
func (c *Control) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.mux.ServeHTTP(w, r) }

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// journal answers GET /journal?kind=&tid=&stan=&mti=&status=&after=SEQ&limit=N:
// the matching entries after SEQ, at most N (oldest first).
func (c *Control) journal(w http.ResponseWriter, r *http.Request) {
	if !onlyParams(w, r, "kind", "tid", "stan", "mti", "status", "after", "limit") {
		return
	}
	q := r.URL.Query()
	after, limit, err := PageArgs(q.Get("after"), q.Get("limit"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f := Filter{Kind: q.Get("kind"), TID: q.Get("tid"), STAN: q.Get("stan"), MTI: q.Get("mti")}
	j := c.a.journal
	if f.Kind == KindConnection {
		j = c.a.ConnLog()
	}
	entries := j.List(f)
	kept := entries[:0]
	st := q.Get("status")
	for _, e := range entries {
		if e.Seq > after && (st == "" || e.Status == st) {
			kept = append(kept, e)
			if limit > 0 && len(kept) == limit {
				break
			}
		}
	}
	writeJSON(w, kept)
}

// PageArgs reads the ?after= (a sequence number or record id) and ?limit=
// of a paginated call, both optional and non-negative.
func PageArgs(after, limit string) (int64, int, error) {
	var a int64
	var l int
	if after != "" {
		v, err := strconv.ParseInt(after, 10, 64)
		if err != nil || v < 0 {
			return 0, 0, fmt.Errorf("after %q: want a sequence number", after)
		}
		a = v
	}
	if limit != "" {
		v, err := strconv.Atoi(limit)
		if err != nil || v < 0 {
			return 0, 0, fmt.Errorf("limit %q: want a number of entries", limit)
		}
		l = v
	}
	return a, l, nil
}

// ledger answers GET /ledger, or ?after=RECORD&limit=N for a page of the
// records (with their postings).
func (c *Control) ledger(w http.ResponseWriter, r *http.Request) {
	if !onlyParams(w, r, "after", "limit") {
		return
	}
	q := r.URL.Query()
	after, limit, err := PageArgs(q.Get("after"), q.Get("limit"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	snap := c.a.engine.SnapshotPage(after, limit)
	snap.Accounts, snap.Merchants, snap.Terminals = lists(snap.Accounts), lists(snap.Merchants), lists(snap.Terminals)
	snap.Records, snap.Postings, snap.Settlements = lists(snap.Records), lists(snap.Postings), lists(snap.Settlements)
	writeJSON(w, snap)
}

// scenario loads a scenario's rules and policies atomically: requests that
// arrive after the answer use them.
func (c *Control) scenario(w http.ResponseWriter, r *http.Request) {
	if c.load == nil {
		http.Error(w, "scenario loading is not available", http.StatusNotImplemented)
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxScenarioBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, fmt.Sprintf("a scenario is at most %d bytes", MaxScenarioBody), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	// loading runs under a deadline, and stops waiting when the client
	// leaves; what it cost is bounded by the loader's own limits
	ctx, cancel := context.WithTimeout(r.Context(), ScenarioDeadline)
	defer cancel()
	type loaded struct {
		setup Setup
		err   error
	}
	done := make(chan loaded, 1)
	go func() {
		s, err := c.load("PUT /scenario", data)
		done <- loaded{s, err}
	}()
	var setup Setup
	select {
	case l := <-done:
		if l.err != nil {
			http.Error(w, l.err.Error(), http.StatusBadRequest)
			return
		}
		setup = l.setup
	case <-ctx.Done():
		http.Error(w, "loading the scenario took longer than "+ScenarioDeadline.String()+" or the client left: nothing loaded", http.StatusServiceUnavailable)
		return
	}
	if err := c.a.Apply(setup); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.a.journal.Append(Entry{Time: c.a.Now(), Kind: KindFault, Detail: "scenario loaded through the control API"})
	writeJSON(w, map[string]string{"status": "loaded"})
}

func (c *Control) reset(w http.ResponseWriter, _ *http.Request) {
	c.a.engine.Reset()
	c.a.journal.Reset()
	c.a.SetHandler(nil)
	w.WriteHeader(http.StatusNoContent)
}

// events streams every journal entry as a server-sent event until the
// client goes away.
func (c *Control) events(w http.ResponseWriter, r *http.Request) {
	StreamEvents(w, r, c.hub, c.a.ctx.Done())
}

// StreamEvents serves the hub's entries as server-sent events (event: the
// entry's kind, id: its sequence number, data: the entry as JSON) until
// the client goes away or done is closed, a chunk every StreamInterval.
// Past the hub's subscriber bound it answers 503.
func StreamEvents(w http.ResponseWriter, r *http.Request, hub *Hub, done <-chan struct{}) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	sub, err := hub.Subscribe()
	if err != nil {
		w.Header().Set("Retry-After", "10")
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	defer sub.Close()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": posim events\n\n")
	fl.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-done:
			return
		case chunk := <-sub.C:
			if _, err := w.Write(chunk); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

// WriteJSON writes v as indented JSON.
func WriteJSON(w http.ResponseWriter, v any) { writeJSON(w, v) }

// statement answers GET /statement?mid=M&day=YYYY-MM-DD (JSON, or text with
// format=text).
func (c *Control) statement(w http.ResponseWriter, r *http.Request) {
	if !onlyParams(w, r, "mid", "day", "format") {
		return
	}
	q := r.URL.Query()
	mid, day := q.Get("mid"), q.Get("day")
	if mid == "" || day == "" {
		http.Error(w, "want ?mid=MERCHANT&day=YYYY-MM-DD", http.StatusBadRequest)
		return
	}
	st := c.a.engine.Statement(mid, day)
	if q.Get("format") != "text" {
		writeJSON(w, st)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_ = WriteStatement(w, st)
}
