package feed

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dropfeed/dropfeed/content"
)

// fakeClock is a clock the test sets; the Handler's timers still run on real time.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// changes collects OnChange calls.
func changes() (chan []string, func([]string)) {
	ch := make(chan []string, 100)
	return ch, func(urls []string) { ch <- urls }
}

// waitChange waits for the next OnChange call; the deadline only stops a
// broken timer from hanging the test.
func waitChange(t *testing.T, ch chan []string) []string {
	t.Helper()
	select {
	case urls := <-ch:
		return urls
	case <-time.After(30 * time.Second):
		t.Fatal("no new version was rendered")
		return nil
	}
}

func feedIDs(t *testing.T, client *http.Client, rawURL, format string) []string {
	t.Helper()
	return readDoc(t, format, mustGet(t, client, rawURL)).ids
}

func TestFutureArticleAppearsOnTime(t *testing.T) {
	clock := &fakeClock{t: t0.Add(100 * time.Hour)}
	ch, onChange := changes()
	h := NewHandler(testSite(t), Options{Now: clock.Now, OnChange: onChange})
	t.Cleanup(func() { h.Close() })
	srv, client := newServer(t, h)

	now := article(100, "now")
	future := article(101, "future")
	future.Published = clock.Now().Add(50 * time.Millisecond)
	future.Updated = future.Published
	if err := h.Update(ptrs([]content.Article{now, future})); err != nil {
		t.Fatal(err)
	}
	waitChange(t, ch) // the first version
	for _, format := range feedExts {
		if got := feedIDs(t, client, srv.URL+"/feed."+format, format); !slices.Equal(got, []string{now.ID}) {
			t.Errorf("%s before its time: ids %q", format, got)
		}
	}
	if resp, _ := do(t, client, "GET", srv.URL+"/articles/future", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("future article page: status %d before its time", resp.StatusCode)
	}

	// Its time comes with no Update: the timer renders again.
	clock.Set(future.Published.Add(time.Hour))
	urls := waitChange(t, ch)
	for _, format := range feedExts {
		if got := feedIDs(t, client, srv.URL+"/feed."+format, format); !slices.Equal(got, []string{future.ID, now.ID}) {
			t.Errorf("%s after its time: ids %q", format, got)
		}
		if !slices.Contains(urls, "https://example.org/blog/feed."+format) {
			t.Errorf("OnChange %q lacks the %s feed", urls, format)
		}
	}
	if resp, _ := do(t, client, "GET", srv.URL+"/articles/future", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("future article page: status %d after its time", resp.StatusCode)
	}
}

// atomTombstones reads the RFC 6721 deleted entries of an Atom document.
func atomTombstones(t *testing.T, body []byte) []tombstoneXML {
	t.Helper()
	var f struct {
		Deleted []tombstoneXML `xml:"http://purl.org/atompub/tombstones/1.0 deleted-entry"`
	}
	if err := xml.Unmarshal(body, &f); err != nil {
		t.Fatal(err)
	}
	return f.Deleted
}

type tombstoneXML struct {
	Ref  string `xml:"ref,attr"`
	When string `xml:"when,attr"`
}

func TestTombstones(t *testing.T) {
	clock := &fakeClock{t: t0.Add(100 * time.Hour)}
	ch, onChange := changes()
	h := NewHandler(testSite(t), Options{Now: clock.Now, OnChange: onChange, TombstoneTTL: 50 * time.Millisecond})
	t.Cleanup(func() { h.Close() })
	srv, client := newServer(t, h)
	articles := sampleArticles()
	noID := article(4, "no-id")
	noID.ID = ""
	articles = append(articles, noID)
	if err := h.Update(ptrs(articles)); err != nil {
		t.Fatal(err)
	}
	if got := atomTombstones(t, mustGet(t, client, srv.URL+"/feed.atom")); len(got) != 0 {
		t.Fatalf("tombstones before any deletion: %v", got)
	}
	waitChange(t, ch)

	deletedAt := clock.Now()
	if err := h.Update(ptrs(articles[1:3])); err != nil { // first and no-id are gone
		t.Fatal(err)
	}
	waitChange(t, ch)
	want := []tombstoneXML{
		{Ref: "https://example.org/blog/articles/no-id", When: deletedAt.Format(time.RFC3339)},
		{Ref: articles[0].ID, When: deletedAt.Format(time.RFC3339)},
	}
	body := mustGet(t, client, srv.URL+"/feed.atom")
	if got := atomTombstones(t, body); !slices.Equal(got, want) {
		t.Errorf("tombstones %v, want %v", got, want)
	}
	if !bytes.Contains(body, []byte(`xmlns:at="http://purl.org/atompub/tombstones/1.0"`)) {
		t.Error("tombstones namespace not declared")
	}
	for _, p := range []string{"/feed.rss", "/feed.json"} {
		if b := mustGet(t, client, srv.URL+p); bytes.Contains(b, []byte(articles[0].ID)) {
			t.Errorf("%s mentions the deleted article", p)
		}
	}

	// An article back is no longer deleted.
	clock.Set(deletedAt.Add(10 * time.Millisecond))
	if err := h.Update(ptrs(articles[:3])); err != nil {
		t.Fatal(err)
	}
	waitChange(t, ch)
	if got := atomTombstones(t, mustGet(t, client, srv.URL+"/feed.atom")); !slices.Equal(got, want[:1]) {
		t.Errorf("tombstones after the article came back: %v, want %v", got, want[:1])
	}

	// The last tombstone expires by the timer, with no Update.
	clock.Set(deletedAt.Add(time.Hour))
	urls := waitChange(t, ch)
	if got := atomTombstones(t, mustGet(t, client, srv.URL+"/feed.atom")); len(got) != 0 {
		t.Errorf("tombstones after they expired: %v", got)
	}
	if !slices.Equal(urls, []string{"https://example.org/blog/feed.atom"}) {
		t.Errorf("OnChange %q; only the Atom feed shows tombstones", urls)
	}
}

func TestTombstonesOff(t *testing.T) {
	h, srv, client := newUpdated(t, Options{TombstoneTTL: -1}, sampleArticles())
	if err := h.Update(ptrs(sampleArticles()[1:])); err != nil {
		t.Fatal(err)
	}
	if got := atomTombstones(t, mustGet(t, client, srv.URL+"/feed.atom")); len(got) != 0 {
		t.Errorf("tombstones %v with TombstoneTTL < 0", got)
	}
}

// allFeedPaths returns the served path of every feed document.
func allFeedPaths(h *Handler) []string {
	var paths []string
	for p, res := range h.current.Load().all() {
		if res.feed {
			paths = append(paths, "/"+p)
		}
	}
	slices.Sort(paths)
	return paths
}

func TestWebSubDiscovery(t *testing.T) {
	hubs := []string{"https://hub.example/", "https://hub2.example/websub"}
	h, srv, client := newUpdated(t, Options{Limit: 2, Hubs: hubs}, tagArticles())
	paths := allFeedPaths(h)
	if len(paths) != 3*(1+2+3) { // main, 2 archive pages, 3 tags
		t.Fatalf("feed paths %q", paths)
	}
	for _, p := range paths {
		resp, body := do(t, client, "GET", srv.URL+p, nil)
		self := "https://example.org/blog" + (&url.URL{Path: p}).EscapedPath()
		wantLinks := []string{`<https://hub.example/>; rel="hub"`, `<https://hub2.example/websub>; rel="hub"`, "<" + self + `>; rel="self"`}
		if got := resp.Header.Values("Link"); !slices.Equal(got, wantLinks) {
			t.Errorf("%s: Link %q, want %q", p, got, wantLinks)
		}
		format := p[strings.LastIndex(p, ".")+1:]
		d := readDoc(t, format, body)
		if !slices.Equal(d.hubs, hubs) || d.links["self"] != self {
			t.Errorf("%s: hubs %q self %q", p, d.hubs, d.links["self"])
		}
	}
	for _, p := range []string{"/", "/articles/a000", "/feed.xsl"} {
		if resp, _ := do(t, client, "GET", srv.URL+p, nil); len(resp.Header.Values("Link")) != 0 {
			t.Errorf("%s: Link headers on a page that is not a feed", p)
		}
	}
}

func TestOnChangeListsChangedFeeds(t *testing.T) {
	ch, onChange := changes()
	h, _, _ := newUpdated(t, Options{Limit: 2, OnChange: onChange}, tagArticles())
	if first := waitChange(t, ch); len(first) != len(allFeedPaths(h)) {
		t.Errorf("first version: %d URLs, want every feed's %d", len(first), len(allFeedPaths(h)))
	}
	if err := h.Update(ptrs(tagArticles())); err != nil {
		t.Fatal(err)
	}
	select {
	case urls := <-ch:
		t.Errorf("OnChange(%q) though nothing changed", urls)
	default:
	}

	// The article tagged "Été" and "web-dev" is edited: its tags' feeds,
	// its archive page and nothing else change.
	a := tagArticles()
	a[2].Title = "Edited"
	if err := h.Update(ptrs(a)); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, path := range []string{"archive/2", "tags/web-dev", "tags/été"} {
		for _, format := range feedExts {
			want = append(want, docURL(testSite(t).BaseURL, path, format))
		}
	}
	slices.Sort(want)
	if got := waitChange(t, ch); !slices.Equal(got, want) {
		t.Errorf("OnChange(%q), want %q", got, want)
	}
}

func TestConditionalGETEveryFeed(t *testing.T) {
	h, srv, client := newUpdated(t, Options{Limit: 2}, tagArticles())
	for _, p := range allFeedPaths(h) {
		for _, enc := range []string{"", "gzip"} {
			resp, _ := do(t, client, "GET", srv.URL+p, map[string]string{"Accept-Encoding": enc})
			etag, lastMod := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
			for range 3 {
				for _, hdr := range []map[string]string{{"If-None-Match": etag}, {"If-Modified-Since": lastMod}} {
					hdr["Accept-Encoding"] = enc
					if resp, body := do(t, client, "GET", srv.URL+p, hdr); resp.StatusCode != http.StatusNotModified || len(body) != 0 {
						t.Errorf("%s %q %v: status %d, %d bytes; want 304", p, enc, hdr, resp.StatusCode, len(body))
					}
				}
			}
		}
	}
}

func TestRateLimit(t *testing.T) {
	start := t0.Add(100 * time.Hour)
	clock := &fakeClock{t: start}
	_, srv, client := newUpdated(t, Options{RateLimit: time.Minute, Now: clock.Now}, sampleArticles())
	get := func(path string, hdr map[string]string) *http.Response {
		resp, _ := do(t, client, "GET", srv.URL+path, hdr)
		return resp
	}
	first := get("/feed.atom", nil)
	if first.StatusCode != http.StatusOK {
		t.Fatalf("first GET: status %d", first.StatusCode)
	}
	clock.Set(start.Add(20 * time.Second))
	if resp := get("/feed.atom", nil); resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "40" {
		t.Errorf("second unconditional GET: status %d, Retry-After %q; want 429, 40", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	for range 3 {
		if resp := get("/feed.atom", map[string]string{"If-None-Match": first.Header.Get("ETag")}); resp.StatusCode != http.StatusNotModified {
			t.Errorf("conditional GET: status %d, want 304", resp.StatusCode)
		}
	}
	for _, p := range []string{"/feed.rss", "/", "/articles/first", "/feed.xsl"} {
		if resp := get(p, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d; the limit is per feed", p, resp.StatusCode)
		}
	}
	for _, p := range []string{"/", "/articles/first"} {
		if resp := get(p, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("%s again: status %d; pages are not limited", p, resp.StatusCode)
		}
	}
	if resp, _ := do(t, client, "HEAD", srv.URL+"/feed.atom", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("HEAD: status %d; HEAD is not limited", resp.StatusCode)
	}
	clock.Set(start.Add(time.Minute))
	if resp := get("/feed.atom", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("after the interval: status %d", resp.StatusCode)
	}
}

func TestRateLimiterMemoryIsBounded(t *testing.T) {
	l := newRateLimiter(time.Minute, 4)
	now := t0
	for i := range 100 {
		if _, ok := l.allow(string(rune('a'+i)), now); !ok {
			t.Errorf("key %d refused on its first request", i)
		}
		if l.size() > 8 {
			t.Fatalf("%d keys remembered, bound is 8", l.size())
		}
	}
	l.allow("x", now)
	if wait, ok := l.allow("x", now.Add(15*time.Second)); ok || wait != 45*time.Second {
		t.Errorf("repeat: ok %v wait %v", ok, wait)
	}
	// Entries older than the interval are dropped as generations turn over.
	now = now.Add(3 * time.Minute)
	l.allow("y", now)
	l.allow("z", now.Add(2*time.Minute))
	if l.size() > 2 {
		t.Errorf("%d keys remembered after the old ones expired", l.size())
	}
}

// metricValue returns the value of one sample line in a Prometheus text
// exposition, "" when absent.
func metricValue(exposition []byte, series string) string {
	for line := range strings.SplitSeq(string(exposition), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}

func TestMetrics(t *testing.T) {
	articles := sampleArticles()
	future := article(9, "future")
	future.Published = time.Now().Add(time.Hour)
	h, srv, client := newUpdated(t, Options{}, append(articles, future))
	t.Cleanup(func() { h.Close() })
	extra := prometheus.NewCounter(prometheus.CounterOpts{Name: "dropfeed_test_events_total", Help: "Test."})
	h.Registry().MustRegister(extra)
	extra.Add(7)

	resp, _ := do(t, client, "GET", srv.URL+"/feed.atom", nil)
	for range 2 {
		do(t, client, "GET", srv.URL+"/feed.atom", map[string]string{"If-None-Match": resp.Header.Get("ETag")})
	}
	do(t, client, "GET", srv.URL+"/nope", nil)
	do(t, client, "POST", srv.URL+"/feed.atom", nil)

	resp, body := do(t, client, "GET", srv.URL+"/metrics", nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	want := map[string]string{
		`dropfeed_http_requests_total{code="200",route="GET /feed.atom"}`: "1",
		`dropfeed_http_requests_total{code="304",route="GET /feed.atom"}`: "2",
		`dropfeed_http_requests_total{code="404",route="unmatched"}`:      "1",
		`dropfeed_http_requests_total{code="405",route="unmatched"}`:      "1",
		"dropfeed_articles_published":                                     "3",
		"dropfeed_articles_unpublished":                                   "1",
		"dropfeed_render_duration_seconds_count":                          "1",
		"dropfeed_test_events_total":                                      "7",
	}
	got := map[string]string{}
	for series := range want {
		got[series] = metricValue(body, series)
	}
	if !maps.Equal(got, want) {
		t.Errorf("metrics %v, want %v\n%s", got, want, body)
	}
	if metricValue(body, "go_goroutines") == "" {
		t.Error("no Go runtime metrics")
	}
}

func TestFilesMatchServedBytes(t *testing.T) {
	h, srv, client := newUpdated(t, Options{Limit: 2}, append(tagArticles(), article(9, "2025/trips/alps")))
	files, err := h.Files()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"feed.atom", "feed.rss", "feed.json", "feed.xsl", "index.html",
		"archive/1.atom", "archive/2.json", "archive/2.html", "tags/go.rss", "tags/été.atom",
		"articles/a000.html", "articles/2025/trips/alps.html",
	} {
		if _, ok := files[want]; !ok {
			t.Errorf("Files lacks %q", want)
		}
	}
	// Feeds: main, 2 archive pages, 4 tags; HTML: 2 archive pages, index, 6 articles; the style sheet.
	if len(files) != 3*(1+2+4)+2+1+6+1 {
		t.Errorf("%d files: %q", len(files), slices.Sorted(maps.Keys(files)))
	}
	for path, f := range files {
		served := "/" + strings.TrimSuffix(strings.TrimSuffix(path, "index.html"), ".html")
		if strings.HasPrefix(path, "archive/") || strings.HasPrefix(path, "tags/") || strings.HasPrefix(path, "feed.") {
			served = "/" + path
		}
		resp, body := do(t, client, "GET", srv.URL+(&url.URL{Path: served}).EscapedPath(), nil)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, f.Body) || resp.Header.Get("Content-Type") != f.ContentType {
			t.Errorf("%s: served %s: status %d, same bytes %v, Content-Type %q vs %q", path, served, resp.StatusCode, bytes.Equal(body, f.Body), resp.Header.Get("Content-Type"), f.ContentType)
		}
		if lm := resp.Header.Get("Last-Modified"); !f.ModTime.IsZero() && lm != f.ModTime.UTC().Format(http.TimeFormat) {
			t.Errorf("%s: Last-Modified %q, ModTime %v", path, lm, f.ModTime)
		}
		if !bytes.Equal(gunzip(t, f.Gzip), f.Body) {
			t.Errorf("%s: Gzip is not the body compressed", path)
		}
	}
}

func TestFilesBeforeUpdate(t *testing.T) {
	h := NewHandler(testSite(t), Options{})
	if files, err := h.Files(); err != nil || len(files) != 1 || !bytes.Equal(files["feed.xsl"].Body, stylesheet) {
		t.Errorf("Files before Update: %v", slices.Sorted(maps.Keys(files)))
	}
}

// TestPublishedDiff checks the walk that finds added and gone articles
// against plain set differences, over random edits: articles added,
// removed, and moved to another date.
func TestPublishedDiff(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ref := func(a *content.Article) string { return a.ID }
	var prev []*content.Article
	byID := map[string]content.Article{}
	for round := range 200 {
		before := maps.Clone(byID)
		for range rng.IntN(20) {
			id := fmt.Sprintf("id-%03d", rng.IntN(150))
			switch _, ok := byID[id]; {
			case ok && rng.IntN(3) == 0:
				delete(byID, id)
			default: // added, or moved to another date
				byID[id] = content.Article{ID: id, Published: t0.Add(time.Duration(rng.IntN(50)) * time.Hour)}
			}
		}
		next, _, _, _ := publishable(ptrs(slices.Collect(maps.Values(byID))), nil, t0.Add(100*time.Hour))
		added, gone := publishedDiff(prev, next, ref)
		var wantAdded, wantGone []string
		for id := range byID {
			if _, ok := before[id]; !ok {
				wantAdded = append(wantAdded, id)
			}
		}
		for id := range before {
			if _, ok := byID[id]; !ok {
				wantGone = append(wantGone, id)
			}
		}
		slices.Sort(added)
		slices.Sort(gone)
		slices.Sort(wantAdded)
		slices.Sort(wantGone)
		if !slices.Equal(added, wantAdded) || !slices.Equal(gone, wantGone) {
			t.Fatalf("round %d: added %q gone %q, want %q and %q", round, added, gone, wantAdded, wantGone)
		}
		prev = next
	}
}

// TestPublishableInOrder checks that articles given in feed order, as a
// Library gives them, are published as when given in any order, and that
// when all are due they are published without a copy.
func TestPublishableInOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for round := range 100 {
		now := t0.Add(40 * time.Hour) // some articles still to come
		if round%2 == 1 {
			now = t0.Add(100 * time.Hour) // all due, and no drafts
		}
		var articles []content.Article
		for i := range 1 + rng.IntN(60) {
			articles = append(articles, content.Article{
				ID:        fmt.Sprintf("id-%02d", rng.IntN(40)), // some twice, as callers other than a Library may
				Path:      fmt.Sprintf("a%02d.md", i),
				Published: t0.Add(time.Duration(rng.IntN(50)) * time.Hour),
				Draft:     round%2 == 0 && rng.IntN(8) == 0,
			})
		}
		rng.Shuffle(len(articles), func(i, j int) { articles[i], articles[j] = articles[j], articles[i] })
		want, wantDue, _, _ := publishable(ptrs(articles), nil, now)
		ordered := slices.SortedFunc(slices.Values(ptrs(articles)), content.FeedOrder)
		got, due, _, _ := publishable(ordered, nil, now)
		if !slices.EqualFunc(got, want, func(a, b *content.Article) bool { return a.Published.Equal(b.Published) && a.ID == b.ID }) || !due.Equal(wantDue) {
			t.Fatalf("round %d: in feed order %d published (due %v), in any order %d (due %v)", round, len(got), due, len(want), wantDue)
		}
		if len(got) == len(ordered) && &got[0] != &ordered[0] { // the same backing array
			t.Fatalf("round %d: all due and in order, yet copied", round)
		}
	}
}
