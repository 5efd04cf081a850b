package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// testHub is a WebSub hub on 127.0.0.1 that records the publish pings it
// accepts. It refuses the first failures attempts at each feed URL with
// 503, and when hang is set it answers nothing until the client gives up.
type testHub struct {
	*httptest.Server
	failures int
	hang     bool

	mu       sync.Mutex
	attempts map[string]int
	accepted []string // hub.url of accepted pings, in order
}

func newTestHub(t *testing.T, failures int, hang bool) *testHub {
	t.Helper()
	h := &testHub{failures: failures, hang: hang, attempts: map[string]int{}}
	h.Server = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.Close)
	return h
}

func (h *testHub) serve(w http.ResponseWriter, r *http.Request) {
	if h.hang {
		// The server notices the client hang up only once the body is read.
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" ||
		r.ParseForm() != nil || r.PostForm.Get("hub.mode") != "publish" {
		http.Error(w, "not a publish ping", http.StatusBadRequest)
		return
	}
	topic := r.PostForm.Get("hub.url")
	h.mu.Lock()
	defer h.mu.Unlock()
	h.attempts[topic]++
	if h.attempts[topic] <= h.failures {
		http.Error(w, "try later", http.StatusServiceUnavailable)
		return
	}
	h.accepted = append(h.accepted, topic)
	w.WriteHeader(http.StatusAccepted)
}

// since returns the pings accepted after the first n.
func (h *testHub) since(n int) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.accepted[n:])
}

func (h *testHub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.accepted)
}

func containsAll(have []string, want ...string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

const testBase = "http://feeds.example.org/blog/"

// A file dropped into the folder makes serve ping the hub for every feed it
// changed, through a hub that refuses each URL twice before accepting it.
func TestServeNotifiesHub(t *testing.T) {
	hub := newTestHub(t, 2, false)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "first.md"), "---\ntitle: First\ntags: [old]\n---\n\nx\n")
	s := startServe(t, dir, filepath.Join(t.TempDir(), "state.db"), "--hub", hub.URL)

	mainFeeds := []string{testBase + "feed.atom", testBase + "feed.rss", testBase + "feed.json"}
	oldTag := []string{testBase + "tags/old.atom", testBase + "tags/old.rss", testBase + "tags/old.json"}
	// All of the first version's, the tag feed's too: one that came after
	// the mark below would read as a ping of the unchanged tag feed.
	eventually(t, "the pings of the first version", func() bool {
		return containsAll(hub.since(0), append(slices.Clone(mainFeeds), oldTag...)...)
	})

	// The feeds announce the hub (WebSub discovery).
	resp, err := http.Get(s.base + "/feed.atom")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	links := strings.Join(resp.Header.Values("Link"), ", ")
	if !strings.Contains(links, "<"+hub.URL+">; rel=\"hub\"") || !strings.Contains(links, "<"+testBase+"feed.atom>; rel=\"self\"") {
		t.Errorf("Link headers %q lack the hub or self link", links)
	}

	mark := hub.count()
	writeFile(t, filepath.Join(dir, "second.md"), "---\ntitle: Second\ntags: [hubtest]\n---\n\ny\n")
	want := append(slices.Clone(mainFeeds), testBase+"tags/hubtest.atom", testBase+"tags/hubtest.rss", testBase+"tags/hubtest.json")
	eventually(t, "the pings after a file drop", func() bool { return containsAll(hub.since(mark), want...) })
	if got := hub.since(mark); slices.Contains(got, testBase+"tags/old.atom") {
		t.Errorf("pinged the unchanged tag feed: %q", got)
	}
}

// A hub that never answers holds up neither serving nor updating, and does
// not keep serve from stopping (TestMain checks nothing is left running).
func TestServeWithHangingHub(t *testing.T) {
	hub := newTestHub(t, 0, true)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "first.md"), "---\ntitle: First\n---\n\nx\n")
	s := startServe(t, dir, filepath.Join(t.TempDir(), "state.db"), "--hub", hub.URL)
	writeFile(t, filepath.Join(dir, "second.md"), "---\ntitle: Second\n---\n\ny\n")
	eventually(t, "the dropped file served", func() bool { _, ok := s.item(t, "Second"); return ok })
	writeFile(t, filepath.Join(dir, "third.md"), "---\ntitle: Third\n---\n\nz\n")
	eventually(t, "the next dropped file served", func() bool { _, ok := s.item(t, "Third"); return ok })
	s.stop()
}
