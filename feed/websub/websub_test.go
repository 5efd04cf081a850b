package websub

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// hub is a WebSub hub on 127.0.0.1 that records the publish pings it
// accepts. answer decides the status of the n-th request (from 1); nil
// accepts all.
type hub struct {
	*httptest.Server
	mu       sync.Mutex
	requests int
	pings    []string // hub.url of accepted pings, in order
	bad      []string // what was wrong with malformed requests
	answer   func(n int, r *http.Request) int
}

func newHub(t *testing.T, answer func(n int, r *http.Request) int) *hub {
	t.Helper()
	h := &hub{answer: answer}
	h.Server = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.Close)
	return h
}

func (h *hub) serve(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.requests++
	n := h.requests
	h.mu.Unlock()
	code := http.StatusNoContent
	if h.answer != nil {
		code = h.answer(n, r)
	}
	if code == 0 {
		return // the answer hung until the client gave up
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case r.Method != http.MethodPost:
		h.bad = append(h.bad, "method "+r.Method)
	case r.Header.Get("Content-Type") != "application/x-www-form-urlencoded":
		h.bad = append(h.bad, "content type "+r.Header.Get("Content-Type"))
	case r.PostForm.Get("hub.mode") != "publish" || len(r.PostForm["hub.url"]) != 1:
		h.bad = append(h.bad, "form "+r.PostForm.Encode())
	case code/100 == 2:
		h.pings = append(h.pings, r.PostForm.Get("hub.url"))
	}
	w.WriteHeader(code)
}

func (h *hub) state() (requests int, pings, bad []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.requests, slices.Clone(h.pings), slices.Clone(h.bad)
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestFlushRetries(t *testing.T) {
	const feedURL = "http://feeds.example.org/feed.atom"
	tests := []struct {
		name         string
		answer       func(n int, r *http.Request) int
		wantRequests int
		wantPings    []string
		wantErr      bool
	}{
		{"accepted", nil, 1, []string{feedURL}, false},
		{"fails twice then accepts", func(n int, _ *http.Request) int {
			if n <= 2 {
				return http.StatusServiceUnavailable
			}
			return http.StatusAccepted
		}, 3, []string{feedURL}, false},
		{"rate limited then accepts", func(n int, _ *http.Request) int {
			if n == 1 {
				return http.StatusTooManyRequests
			}
			return http.StatusOK
		}, 2, []string{feedURL}, false},
		{"always failing, given up after Attempts", func(int, *http.Request) int { return http.StatusBadGateway }, 4, nil, true},
		{"refused, not retried", func(int, *http.Request) int { return http.StatusBadRequest }, 1, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHub(t, tt.answer)
			p := &Publisher{Hubs: []string{h.URL}, Logger: quiet(), Attempts: 4, Backoff: time.Millisecond}
			p.Publish([]string{feedURL})
			err := p.Flush(context.Background())
			if (err != nil) != tt.wantErr {
				t.Errorf("Flush: %v, want error %v", err, tt.wantErr)
			}
			requests, pings, bad := h.state()
			if requests != tt.wantRequests || !slices.Equal(pings, tt.wantPings) || len(bad) > 0 {
				t.Errorf("hub saw %d requests, pings %q, malformed %q; want %d, %q", requests, pings, bad, tt.wantRequests, tt.wantPings)
			}
		})
	}
}

func TestPublishCoalescesAndBounds(t *testing.T) {
	tests := []struct {
		name       string
		maxPending int
		publish    [][]string
		want       []string
	}{
		{"duplicates sent once", 0, [][]string{{"a", "b", "a"}, {"b", "c"}}, []string{"a", "b", "c"}},
		{"queue full drops the newest", 2, [][]string{{"a", "b", "c"}, {"a", "d"}}, []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h1, h2 := newHub(t, nil), newHub(t, nil)
			p := &Publisher{Hubs: []string{h1.URL, h2.URL}, Logger: quiet(), MaxPending: tt.maxPending}
			for _, urls := range tt.publish {
				p.Publish(urls)
			}
			if err := p.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			for _, h := range []*hub{h1, h2} {
				if _, pings, _ := h.state(); !slices.Equal(pings, tt.want) {
					t.Errorf("hub %s got %q, want %q", h.URL, pings, tt.want)
				}
			}
			// Nothing is left to send.
			if err := p.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			if requests, _, _ := h1.state(); requests != len(tt.want) {
				t.Errorf("%d requests after a second Flush, want %d", requests, len(tt.want))
			}
		})
	}
}

// A hub that never answers delays neither Publish nor the other hubs, and
// Run still stops when asked.
func TestRunHangingHub(t *testing.T) {
	release := make(chan struct{})
	hanging := newHub(t, func(_ int, r *http.Request) int {
		// The server notices the client hang up only once the body is read.
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
		return 0
	})
	defer close(release)
	healthy := newHub(t, nil)
	p := &Publisher{Hubs: []string{hanging.URL, healthy.URL}, Logger: quiet()}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		p.Run(ctx)
		close(done)
	}()

	p.Publish([]string{"http://feeds.example.org/feed.atom"})
	waitFor(t, "the healthy hub's ping", func() bool { _, pings, _ := healthy.state(); return len(pings) == 1 })
	waitFor(t, "the hanging hub's request", func() bool { n, _, _ := hanging.state(); return n == 1 })
	// The hanging hub holds its worker; publishing still only queues.
	for range 1000 {
		p.Publish([]string{"http://feeds.example.org/feed.rss", "http://feeds.example.org/feed.json"})
	}
	waitFor(t, "the healthy hub's later pings", func() bool {
		_, pings, _ := healthy.state()
		return slices.Contains(pings, "http://feeds.example.org/feed.rss") && slices.Contains(pings, "http://feeds.example.org/feed.json")
	})

	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
	}
	if _, pings, _ := hanging.state(); len(pings) != 0 {
		t.Errorf("the hanging hub recorded pings %q", pings)
	}
}

// waitFor polls cond until it holds, failing after a generous deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPingRequest(t *testing.T) {
	var got *http.Request
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got, body = r, string(b)
	}))
	defer srv.Close()
	p := &Publisher{Hubs: []string{srv.URL + "/hub"}, Logger: quiet()}
	p.Publish([]string{"http://feeds.example.org/blog/tags/go&c.atom"})
	if err := p.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got == nil {
		t.Fatal("no request")
	}
	if want := "hub.mode=publish&hub.url=http%3A%2F%2Ffeeds.example.org%2Fblog%2Ftags%2Fgo%26c.atom"; body != want {
		t.Errorf("body %q, want %q", body, want)
	}
	if got.Method != http.MethodPost || got.URL.Path != "/hub" || got.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Errorf("request %s %s with Content-Type %q", got.Method, got.URL.Path, got.Header.Get("Content-Type"))
	}
}
