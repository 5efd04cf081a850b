package feed

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dropfeed/dropfeed/content"
	"github.com/valyala/fasthttp"
)

// startFast serves h on 127.0.0.1 with the server NewServer configures,
// until the test ends, and returns its base URL.
func startFast(t testing.TB, h *Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := h.NewServer(slog.New(slog.DiscardHandler))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		if err := srv.Shutdown(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// rawClient sends requests as they are written: no Accept-Encoding of
// its own, no redirects followed.
func rawClient(t testing.TB) *http.Client {
	tr := &http.Transport{DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// response is what a client saw of one response, Date left out.
type response struct {
	status int
	header http.Header
	body   []byte
}

func fetch(t *testing.T, c *http.Client, method, base, requestURI string, header http.Header) response {
	t.Helper()
	r, err := http.NewRequest(method, base, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Opaque sends the path as written, escapes and dot segments too.
	r.URL.Opaque = requestURI
	maps.Copy(r.Header, header)
	resp, body := doRequest(t, c, r)
	resp.Header.Del("Date")
	return response{resp.StatusCode, resp.Header, body}
}

// TestFastServerMatchesNetHTTP sends the same requests to the Handler
// behind net/http and behind the fasthttp server, on 127.0.0.1: the
// documents answered directly, and everything that goes through the
// adaptor, must give the same status, header fields and bytes.
func TestFastServerMatchesNetHTTP(t *testing.T) {
	for _, cfg := range []struct {
		name     string
		opts     Options
		articles []content.Article
	}{
		{"small", Options{}, numbered(60)},
		{"hubs", Options{Hubs: []string{"https://hub.example/", "https://hub2.example/"}}, numbered(60)},
		// Documents larger than the server's write buffer, gzipped too.
		{"large", Options{}, withLongBodies(numbered(60), 4000)},
	} {
		h := NewHandler(testSite(t), cfg.opts)
		t.Cleanup(func() { h.Close() })
		articles := ptrs(cfg.articles)
		if err := h.Update(articles); err != nil {
			t.Fatal(err)
		}
		std := httptest.NewServer(h)
		t.Cleanup(std.Close)
		fast := startFast(t, h)
		c := rawClient(t)

		v := h.current.Load()
		atom := v.files["feed.atom"]
		p, _ := atom.payload()
		if cfg.name == "large" && len(p.gz()) < 32<<10 {
			t.Fatalf("large: the gzipped feed is %d bytes, under 32 KiB", len(p.gz()))
		}
		lastMod := atom.modTime.UTC().Format(http.TimeFormat)
		before := atom.modTime.Add(-time.Hour).UTC().Format(http.TimeFormat)
		var tagFeed string
		for path := range v.files {
			if len(path) > len("tags/") && path[:len("tags/")] == "tags/" {
				tagFeed = "/" + path
				break
			}
		}
		if tagFeed == "" {
			t.Fatal("no tag feed rendered")
		}
		paths := []string{
			// Answered directly when whole or 304.
			"/feed.atom", "/feed.rss", "/feed.json", "/", "/" + StylesheetName,
			"/archive/1.atom", "/archive/1.html", tagFeed,
			// Through the adaptor.
			"/feed.atom?since=1", "/archive/999.atom", "/articles/" + articles[0].Slug, "/articles/none",
			"/healthz", "/nowhere", "/./feed.atom", "/feed.atom/", "/%66eed.atom", "/archive/../feed.atom",
			"/tags/%2e%2e",
		}
		cases := append(conditionalCases(p.etag, p.gzETag, lastMod, before),
			headerCase{"accept all", http.Header{"Accept-Encoding": {"*"}}},
			headerCase{"gzip etag matches, lower-case key", http.Header{"if-none-match": {p.gzETag}, "Accept-Encoding": {"gzip"}}})
		for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodOptions} {
			for _, tt := range cases {
				if method != http.MethodGet && method != http.MethodHead && tt.header != nil {
					continue
				}
				for _, path := range paths {
					want := fetch(t, c, method, std.URL, path, tt.header)
					got := fetch(t, c, method, fast, path, tt.header)
					name := cfg.name + " " + method + " " + path + " " + tt.name
					if got.status != want.status {
						t.Errorf("%s: status %d, net/http %d", name, got.status, want.status)
					}
					if !equalHeaders(got.header, want.header) {
						t.Errorf("%s: headers\n%v\nnet/http\n%v", name, got.header, want.header)
					}
					if !bytes.Equal(got.body, want.body) {
						t.Errorf("%s: body of %d bytes, net/http %d", name, len(got.body), len(want.body))
					}
				}
			}
		}
	}
}

// withLongBodies gives each article a body of n bytes of words drawn at
// random, which gzip cannot shrink much.
func withLongBodies(articles []content.Article, n int) []content.Article {
	words := strings.Fields("feed reader poll article folder atom entry summary title tag archive page " +
		"river mountain station harbour council budget weather election concert library")
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range articles {
		var b strings.Builder
		b.WriteString("<p>")
		for b.Len() < n {
			b.WriteString(words[rng.IntN(len(words))])
			fmt.Fprintf(&b, " %d ", rng.IntN(100000))
		}
		b.WriteString("</p>")
		articles[i].HTML = b.String()
	}
	return articles
}

// equalHeaders compares header fields as a client reads them: the same
// values in the same order for each field.
func equalHeaders(a, b http.Header) bool {
	return maps.EqualFunc(a, b, slices.Equal)
}

// TestFastServerRateLimit checks that unconditional polls are limited
// behind the fast server as behind ServeHTTP, and conditional ones never.
func TestFastServerRateLimit(t *testing.T) {
	h := NewHandler(testSite(t), Options{RateLimit: time.Hour})
	t.Cleanup(func() { h.Close() })
	if err := h.Update(ptrs(numbered(60))); err != nil {
		t.Fatal(err)
	}
	fast := startFast(t, h)
	c := rawClient(t)
	first := fetch(t, c, http.MethodGet, fast, "/feed.atom", nil)
	if first.status != http.StatusOK {
		t.Fatalf("first poll: status %d", first.status)
	}
	etag := first.header.Get("ETag")
	for _, tt := range []struct {
		name   string
		header http.Header
		status int
	}{
		{"again, unconditional", nil, http.StatusTooManyRequests},
		{"conditional", http.Header{"If-None-Match": {etag}}, http.StatusNotModified},
		{"conditional, stale", http.Header{"If-None-Match": {`"old"`}}, http.StatusOK},
	} {
		if got := fetch(t, c, http.MethodGet, fast, "/feed.atom", tt.header); got.status != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, got.status, tt.status)
		}
	}
}

func TestFastPattern(t *testing.T) {
	for _, tt := range []struct{ path, want string }{
		{"/feed.atom", "GET /feed.atom"},
		{"/feed.rss", "GET /feed.rss"},
		{"/feed.json", "GET /feed.json"},
		{"/", "GET /{$}"},
		{"/feed.xsl", "GET /feed.xsl"},
		{"/archive/3.atom", "GET /archive/{file}"},
		{"/tags/go-lang_2.rss", "GET /tags/{file}"},
		// Left to the mux: it cleans, redirects or unescapes these, or
		// they are not documents of a version.
		{"", ""},
		{"//feed.atom", ""},
		{"/feed.atom/", ""},
		{"/./feed.atom", ""},
		{"/%66eed.atom", ""},
		{"/archive/", ""},
		{"/archive/..", ""},
		{"/archive/.hidden", ""},
		{"/archive/a/b", ""},
		{"/tags/caf%C3%A9.atom", ""},
		{"/articles/a000", ""},
		{"/healthz", ""},
		{"/metrics", ""},
		{"http://example.com/feed.atom", ""},
	} {
		if got := fastPattern([]byte(tt.path)); got != tt.want {
			t.Errorf("fastPattern(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

// BenchmarkFastServe measures what serveFast adds to each request a
// poller makes, the header written as fasthttp sends it: a gzipped 200
// and a 304 for the gzipped ETag.
func BenchmarkFastServe(b *testing.B) {
	h := benchHandler(b)
	serve := h.FastHTTP()
	get := func(etag string) *fasthttp.Request {
		req := new(fasthttp.Request)
		req.SetRequestURI("/feed.atom")
		req.Header.Set("Accept-Encoding", "gzip, deflate, br")
		req.Header.Set("User-Agent", "bench")
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		return req
	}
	var ctx fasthttp.RequestCtx
	ctx.Init(get(""), nil, nil)
	serve(&ctx)
	etag := string(ctx.Response.Header.Peek("Etag"))
	for _, c := range []struct {
		name   string
		req    *fasthttp.Request
		status int
	}{
		{"gzip", get(""), fasthttp.StatusOK},
		{"304", get(etag), fasthttp.StatusNotModified},
	} {
		b.Run(c.name, func(b *testing.B) {
			w := bufio.NewWriter(io.Discard)
			b.ReportAllocs()
			for b.Loop() {
				ctx.Response.Reset()
				ctx.Init(c.req, nil, nil)
				serve(&ctx)
				if ctx.Response.StatusCode() != c.status {
					b.Fatalf("status %d, want %d", ctx.Response.StatusCode(), c.status)
				}
				if _, err := ctx.Response.Header.WriteTo(w); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
