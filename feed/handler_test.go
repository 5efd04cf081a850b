package feed

import (
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html"

	"github.com/dropfeed/dropfeed/content"
	"github.com/dropfeed/dropfeed/content/store"
)

// t0 is an arbitrary fixed time; test articles are published hours after it.
var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func testSite(t testing.TB) Site {
	t.Helper()
	base, err := url.Parse("https://example.org/blog/")
	if err != nil {
		t.Fatal(err)
	}
	return Site{
		ID:          "urn:uuid:5f0c2a4e-8a53-4d0e-9d39-0d7f3c1b8e11",
		Title:       "Test site",
		Description: "Articles for testing",
		Author:      "Ann Author",
		Language:    "en",
		BaseURL:     base,
	}
}

// article returns a published article n hours after t0, updated a minute later.
func article(n int, slug string) content.Article {
	return content.Article{
		ID:        fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", n),
		Path:      slug + ".md",
		Slug:      slug,
		Title:     "Article " + slug,
		Summary:   "Summary of " + slug,
		HTML:      "<p>Body of <em>" + slug + "</em></p>",
		Author:    "Bob",
		Tags:      []string{"go", "feeds"},
		Published: t0.Add(time.Duration(n) * time.Hour),
		Updated:   t0.Add(time.Duration(n)*time.Hour + time.Minute),
	}
}

func sampleArticles() []content.Article {
	return []content.Article{
		article(1, "first"),
		article(3, "2025/trips/alps"),
		article(2, "second"),
	}
}

// newServer starts a real HTTP server for h with a client that neither asks
// for nor undoes compression on its own.
func newServer(t testing.TB, h *Handler) (*httptest.Server, *http.Client) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	client := srv.Client()
	client.Transport.(*http.Transport).DisableCompression = true
	return srv, client
}

func newUpdated(t testing.TB, opts Options, articles []content.Article) (*Handler, *httptest.Server, *http.Client) {
	t.Helper()
	h := NewHandler(testSite(t), opts)
	t.Cleanup(func() { h.Close() })
	if err := h.Update(ptrs(articles)); err != nil {
		t.Fatalf("Update: %v", err)
	}
	srv, client := newServer(t, h)
	return h, srv, client
}

// do sends one request with the given headers and returns the response with its body read.
func do(t testing.TB, client *http.Client, method, rawURL string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return doRequest(t, client, req)
}

// doRequest sends req and returns the response with its body read.
func doRequest(t testing.TB, client *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	return resp, body
}

func gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("gzip header: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	return out
}

// servedPaths are all document routes for sampleArticles.
var servedPaths = []string{"/feed.atom", "/feed.rss", "/feed.json", "/", "/articles/2025/trips/alps"}

var feedPaths = []string{"/feed.atom", "/feed.rss", "/feed.json"}

func TestServeContentTypes(t *testing.T) {
	_, srv, client := newUpdated(t, Options{MaxAge: 90 * time.Second}, sampleArticles())
	tests := []struct {
		path, contentType string
		html              bool
	}{
		{"/feed.atom", "application/atom+xml; charset=utf-8", false},
		{"/feed.rss", "application/rss+xml; charset=utf-8", false},
		{"/feed.json", "application/feed+json; charset=utf-8", false},
		{"/", "text/html; charset=utf-8", true},
		{"/articles/first", "text/html; charset=utf-8", true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := do(t, client, "GET", srv.URL+tt.path, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", resp.StatusCode)
			}
			if got := resp.Header.Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type %q, want %q", got, tt.contentType)
			}
			if got := resp.Header.Get("Cache-Control"); got != "public, max-age=90" {
				t.Errorf("Cache-Control %q", got)
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q", got)
			}
			csp := resp.Header.Get("Content-Security-Policy")
			if tt.html && csp != pageCSP || !tt.html && csp != "" {
				t.Errorf("Content-Security-Policy %q", csp)
			}
			if tt.html && bytes.Contains(bytes.ToLower(body), []byte("<script")) {
				t.Errorf("page has a script element")
			}
			if got := resp.Header.Get("Content-Length"); got != fmt.Sprint(len(body)) {
				t.Errorf("Content-Length %q, body has %d bytes", got, len(body))
			}
		})
	}
}

func TestConditionalGET(t *testing.T) {
	_, srv, client := newUpdated(t, Options{}, sampleArticles())
	for _, path := range servedPaths {
		for _, enc := range []string{"", "gzip"} {
			t.Run(path+" "+enc, func(t *testing.T) {
				ae := map[string]string{"Accept-Encoding": enc}
				resp, _ := do(t, client, "GET", srv.URL+path, ae)
				etag, lastMod := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
				if !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) || len(etag) < 18 {
					t.Fatalf("ETag %q is not a quoted strong tag", etag)
				}
				if lastMod == "" {
					t.Fatal("no Last-Modified")
				}
				lm, err := http.ParseTime(lastMod)
				if err != nil {
					t.Fatalf("Last-Modified %q: %v", lastMod, err)
				}

				cases := []struct {
					name   string
					header map[string]string
					want   int
				}{
					{"If-None-Match same", map[string]string{"If-None-Match": etag}, http.StatusNotModified},
					{"If-None-Match list", map[string]string{"If-None-Match": `"other", ` + etag}, http.StatusNotModified},
					{"If-None-Match other", map[string]string{"If-None-Match": `"0123456789abcdef"`}, http.StatusOK},
					{"If-Modified-Since same", map[string]string{"If-Modified-Since": lastMod}, http.StatusNotModified},
					{"If-Modified-Since earlier", map[string]string{"If-Modified-Since": lm.Add(-time.Hour).Format(http.TimeFormat)}, http.StatusOK},
					// If-None-Match wins over If-Modified-Since (RFC 9110, section 13.2.2).
					{"both, etag differs", map[string]string{"If-None-Match": `"0123456789abcdef"`, "If-Modified-Since": lastMod}, http.StatusOK},
				}
				for _, c := range cases {
					c.header["Accept-Encoding"] = enc
					resp, body := do(t, client, "GET", srv.URL+path, c.header)
					if resp.StatusCode != c.want {
						t.Errorf("%s: status %d, want %d", c.name, resp.StatusCode, c.want)
						continue
					}
					if c.want != http.StatusNotModified {
						continue
					}
					if len(body) != 0 {
						t.Errorf("%s: 304 with %d body bytes", c.name, len(body))
					}
					if got := resp.Header.Get("ETag"); got != etag {
						t.Errorf("%s: 304 ETag %q, want %q", c.name, got, etag)
					}
					if got := resp.Header.Get("Vary"); got != "Accept-Encoding" {
						t.Errorf("%s: 304 Vary %q", c.name, got)
					}
				}
			})
		}
	}
}

func TestHEAD(t *testing.T) {
	_, srv, client := newUpdated(t, Options{}, sampleArticles())
	for _, path := range servedPaths {
		for _, enc := range []string{"", "gzip"} {
			t.Run(path+" "+enc, func(t *testing.T) {
				ae := map[string]string{"Accept-Encoding": enc}
				get, getBody := do(t, client, "GET", srv.URL+path, ae)
				head, headBody := do(t, client, "HEAD", srv.URL+path, ae)
				if head.StatusCode != http.StatusOK {
					t.Fatalf("HEAD status %d", head.StatusCode)
				}
				if len(headBody) != 0 {
					t.Errorf("HEAD returned %d body bytes", len(headBody))
				}
				for _, k := range []string{"Content-Type", "Content-Length", "Content-Encoding", "ETag", "Last-Modified", "Vary", "Cache-Control", "Content-Security-Policy", "X-Content-Type-Options"} {
					if g, h := get.Header.Get(k), head.Header.Get(k); g != h {
						t.Errorf("%s: GET %q, HEAD %q", k, g, h)
					}
				}
				if head.ContentLength != int64(len(getBody)) {
					t.Errorf("HEAD Content-Length %d, GET body %d bytes", head.ContentLength, len(getBody))
				}
			})
		}
	}
}

func TestGzipNegotiation(t *testing.T) {
	_, srv, client := newUpdated(t, Options{}, sampleArticles())
	tests := []struct {
		acceptEncoding string
		wantGzip       bool
	}{
		{"", false},
		{"gzip", true},
		{"gzip;q=0", false},
		{"gzip; q=0.000", false},
		{"br, gzip;q=0.5, deflate", true},
		{"identity", false},
		{"*", true},
		{"*;q=0", false},
		{"gzip;q=0, *", false},
	}
	for _, path := range servedPaths {
		identity, identityBody := do(t, client, "GET", srv.URL+path, nil)
		for _, tt := range tests {
			t.Run(path+" "+tt.acceptEncoding, func(t *testing.T) {
				resp, body := do(t, client, "GET", srv.URL+path, map[string]string{"Accept-Encoding": tt.acceptEncoding})
				if got := resp.Header.Get("Vary"); got != "Accept-Encoding" {
					t.Errorf("Vary %q", got)
				}
				gotGzip := resp.Header.Get("Content-Encoding") == "gzip"
				if gotGzip != tt.wantGzip {
					t.Fatalf("Content-Encoding %q, want gzip %v", resp.Header.Get("Content-Encoding"), tt.wantGzip)
				}
				if !gotGzip {
					if !bytes.Equal(body, identityBody) {
						t.Error("identity body differs between requests")
					}
					return
				}
				if !bytes.Equal(gunzip(t, body), identityBody) {
					t.Error("gzip body does not decompress to the identity body")
				}
				if resp.Header.Get("ETag") == identity.Header.Get("ETag") {
					t.Error("gzip and identity bodies share an ETag")
				}
				if resp.ContentLength != int64(len(body)) {
					t.Errorf("Content-Length %d, body %d bytes", resp.ContentLength, len(body))
				}
			})
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		values []string
		want   bool
	}{
		{nil, false},
		{[]string{""}, false},
		{[]string{"gzip"}, true},
		{[]string{"GZip"}, true},
		{[]string{"x-gzip"}, true},
		{[]string{"gzip;q=1.0"}, true},
		{[]string{"gzip;q=0.001"}, true},
		{[]string{"gzip;q=0"}, false},
		{[]string{"gzip ; Q=0"}, false},
		{[]string{"gzip;q=bad"}, false},
		{[]string{"gzip;q=2"}, false},
		{[]string{"gzipped"}, false},
		{[]string{"deflate, br"}, false},
		{[]string{"*"}, true},
		{[]string{"*;q=0"}, false},
		{[]string{"*;q=0.1, gzip;q=0"}, false},
		{[]string{"gzip;q=0.5, *;q=0"}, true},
		{[]string{"deflate", "gzip"}, true},
		{[]string{"gzip;q=0", "gzip"}, true},
	}
	for _, tt := range tests {
		if got := acceptsGzip(tt.values); got != tt.want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", tt.values, got, tt.want)
		}
	}
}

// etags fetches the identity and gzip ETags of every path.
func etags(t *testing.T, client *http.Client, srv *httptest.Server, paths []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range paths {
		for _, enc := range []string{"", "gzip"} {
			resp, _ := do(t, client, "GET", srv.URL+p, map[string]string{"Accept-Encoding": enc})
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: status %d", p, resp.StatusCode)
			}
			out[p+" "+enc] = resp.Header.Get("ETag")
		}
	}
	return out
}

func TestUpdateETags(t *testing.T) {
	h, srv, client := newUpdated(t, Options{}, sampleArticles())
	paths := append(slices.Clone(servedPaths), "/articles/first")
	before := etags(t, client, srv, paths)

	if err := h.Update(ptrs(sampleArticles())); err != nil {
		t.Fatal(err)
	}
	if same := etags(t, client, srv, paths); !maps.Equal(same, before) {
		t.Errorf("ETags changed on an Update with the same articles:\n%v\n%v", before, same)
	}

	changed := sampleArticles()
	changed[1].Title = "Alps, revised"
	changed[1].Updated = changed[1].Updated.Add(time.Hour)
	if err := h.Update(ptrs(changed)); err != nil {
		t.Fatal(err)
	}
	after := etags(t, client, srv, paths)
	for _, p := range servedPaths {
		for _, enc := range []string{"", "gzip"} {
			if k := p + " " + enc; after[k] == before[k] {
				t.Errorf("%s: ETag %s unchanged after the content changed", k, after[k])
			}
		}
	}
	for _, enc := range []string{"", "gzip"} {
		if k := "/articles/first " + enc; after[k] != before[k] {
			t.Errorf("%s: ETag changed though that article did not", k)
		}
	}
}

// TestArticlePagesBounded asks for more article pages than a serving
// Handler keeps: every one is served, the cache stays bounded, and a page
// whose article is gone is not served from it.
func TestArticlePagesBounded(t *testing.T) {
	articles := numbered(maxCachedPages + 40)
	h, srv, client := newUpdated(t, Options{}, articles)
	for _, a := range articles {
		page := mustGet(t, client, srv.URL+"/articles/"+a.Slug)
		if !bytes.Contains(page, []byte(a.Title)) {
			t.Fatalf("/articles/%s does not show %q", a.Slug, a.Title)
		}
	}
	if n := len(h.pageCache.pages); n > maxCachedPages {
		t.Errorf("%d article pages kept, want %d at most", n, maxCachedPages)
	}
	gone := articles[len(articles)-1]
	if err := h.Update(ptrs(articles[:len(articles)-1])); err != nil {
		t.Fatal(err)
	}
	if resp, _ := do(t, client, "GET", srv.URL+"/articles/"+gone.Slug, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("page of a removed article: status %d, want 404", resp.StatusCode)
	}
}

func TestLastModified(t *testing.T) {
	h, srv, client := newUpdated(t, Options{}, sampleArticles())
	newest := article(3, "2025/trips/alps").Updated
	tests := []struct {
		path string
		want time.Time
	}{
		{"/feed.atom", newest},
		{"/feed.rss", newest},
		{"/feed.json", newest},
		{"/", newest},
		{"/articles/first", article(1, "first").Updated},
	}
	for _, tt := range tests {
		resp, _ := do(t, client, "GET", srv.URL+tt.path, nil)
		if got, want := resp.Header.Get("Last-Modified"), tt.want.Format(http.TimeFormat); got != want {
			t.Errorf("%s: Last-Modified %q, want %q", tt.path, got, want)
		}
	}

	// Removing the newest article changes the documents while the newest
	// Updated moves back: Last-Modified must not follow it backwards.
	if err := h.Update(ptrs(sampleArticles()[:1])); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/feed.atom", "/feed.rss", "/feed.json", "/"} {
		resp, _ := do(t, client, "GET", srv.URL+p, map[string]string{"If-Modified-Since": newest.Format(http.TimeFormat)})
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d after removing the newest article, want 200", p, resp.StatusCode)
		}
		lm, err := http.ParseTime(resp.Header.Get("Last-Modified"))
		if err != nil || !lm.After(newest) {
			t.Errorf("%s: Last-Modified %q not after %v (%v)", p, resp.Header.Get("Last-Modified"), newest, err)
		}
	}
}

// parseFeed fetches and parses one feed, failing on any error.
func parseFeed(t *testing.T, client *http.Client, rawURL string) *gofeed.Feed {
	t.Helper()
	resp, body := do(t, client, "GET", rawURL, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", rawURL, resp.StatusCode)
	}
	f, err := gofeed.NewParser().ParseString(string(body))
	if err != nil {
		t.Fatalf("parse %s: %v\n%s", rawURL, err, body)
	}
	return f
}

// indexLinks returns the hrefs of the index's article links, in page order.
func indexLinks(t *testing.T, page []byte) []string {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var links []string
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode || n.Data != "a" {
			continue
		}
		for _, a := range n.Attr {
			if a.Key == "href" && strings.HasPrefix(a.Val, "https://example.org/blog/articles/") {
				links = append(links, a.Val)
			}
		}
	}
	return links
}

func TestDraftsLimitOrder(t *testing.T) {
	articles := []content.Article{
		article(1, "one"),
		article(5, "five"),
		article(2, "two-b"),
		article(4, "four"),
		article(2, "two-a"),
		article(9, "draft"),
	}
	// Same Published time: the smaller ID comes first.
	articles[2].ID, articles[4].ID = "urn:b", "urn:a"
	articles[5].Draft = true

	_, srv, client := newUpdated(t, Options{Limit: 3}, articles)
	for _, p := range feedPaths {
		f := parseFeed(t, client, srv.URL+p)
		var titles []string
		for _, it := range f.Items {
			titles = append(titles, it.Title)
		}
		want := []string{"Article five", "Article four", "Article two-a"}
		if !slices.Equal(titles, want) {
			t.Errorf("%s: items %q, want %q", p, titles, want)
		}
	}

	var want []string
	for _, s := range []string{"five", "four", "two-a", "two-b", "one"} {
		want = append(want, "https://example.org/blog/articles/"+s)
	}
	if got := pagedLinks(t, client, srv.URL); !slices.Equal(got, want) {
		t.Errorf("index and archive pages link %q, want %q", got, want)
	}
	if _, page := do(t, client, "GET", srv.URL+"/", nil); bytes.Contains(page, []byte("draft")) {
		t.Error("index mentions the draft")
	}
	if resp, _ := do(t, client, "GET", srv.URL+"/articles/draft", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("draft page: status %d, want 404", resp.StatusCode)
	}
}

func TestDefaultLimit(t *testing.T) {
	var articles []content.Article
	for i := range 60 {
		articles = append(articles, article(i, fmt.Sprintf("a%02d", i)))
	}
	_, srv, client := newUpdated(t, Options{}, articles)
	if f := parseFeed(t, client, srv.URL+"/feed.atom"); len(f.Items) != 50 {
		t.Errorf("feed has %d items, want 50", len(f.Items))
	}
	_, page := do(t, client, "GET", srv.URL+"/", nil)
	if got := len(indexLinks(t, page)); got != 50 {
		t.Errorf("index links %d articles, want 50", got)
	}
	if got := len(pagedLinks(t, client, srv.URL)); got != 60 {
		t.Errorf("index and archive pages link %d articles, want 60", got)
	}
}

// pagedLinks follows the index's "Older articles" link from page to page
// and returns the article links of all of them, in order. Each archive
// page's rel=next link must lead back to the page the walk came from.
func pagedLinks(t *testing.T, client *http.Client, root string) []string {
	t.Helper()
	page, cur, from := root+"/", "https://example.org/blog/", ""
	var links []string
	for range 100 {
		resp, body := do(t, client, "GET", page, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d", page, resp.StatusCode)
		}
		links = append(links, indexLinks(t, body)...)
		rels := relLinks(t, body)
		if page != root+"/" && rels["next"] != from {
			t.Errorf("%s: rel=next %q, want %q", page, rels["next"], from)
		}
		older, ok := rels["prev"]
		if !ok {
			return links
		}
		from, cur = cur, older
		page = root + strings.TrimPrefix(older, "https://example.org/blog")
	}
	t.Fatal("more than 100 index pages")
	return nil
}

// relLinks returns the href of each <a rel=...> of an HTML page, by rel.
func relLinks(t *testing.T, page []byte) map[string]string {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	rels := map[string]string{}
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode || n.Data != "a" {
			continue
		}
		var rel, href string
		for _, a := range n.Attr {
			switch a.Key {
			case "rel":
				rel = a.Val
			case "href":
				href = a.Val
			}
		}
		if rel != "" {
			rels[rel] = href
		}
	}
	return rels
}

func TestIndexPage(t *testing.T) {
	articles := sampleArticles()
	articles[0].Title = `<script>alert("x")</script> & more`
	_, srv, client := newUpdated(t, Options{}, articles)
	_, page := do(t, client, "GET", srv.URL+"/", nil)

	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	alternates := map[string]string{}
	visible := map[string]bool{}
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		attr := map[string]string{}
		for _, a := range n.Attr {
			attr[a.Key] = a.Val
		}
		switch {
		case n.Data == "link" && attr["rel"] == "alternate":
			alternates[attr["type"]] = attr["href"]
		case n.Data == "a":
			visible[attr["href"]] = true
		case n.Data == "script":
			t.Error("page has a script element")
		}
	}
	wantAlternates := map[string]string{
		"application/atom+xml":  "https://example.org/blog/feed.atom",
		"application/rss+xml":   "https://example.org/blog/feed.rss",
		"application/feed+json": "https://example.org/blog/feed.json",
	}
	if !maps.Equal(alternates, wantAlternates) {
		t.Errorf("alternate links %v, want %v", alternates, wantAlternates)
	}
	for _, href := range wantAlternates {
		if !visible[href] {
			t.Errorf("no visible link to %s", href)
		}
	}
	for _, want := range []string{
		"Test site", "Articles for testing", "Summary of second",
		`&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more`,
		`<time datetime="2025-03-01T12:00:00Z">2025-03-01</time>`,
	} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("index lacks %q", want)
		}
	}
}

func TestArticlePage(t *testing.T) {
	articles := sampleArticles()
	articles[1].Updated = articles[1].Published.Add(48 * time.Hour)
	_, srv, client := newUpdated(t, Options{}, articles)

	resp, page := do(t, client, "GET", srv.URL+"/articles/2025/trips/alps", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, want := range []string{
		"<h1>Article 2025/trips/alps</h1>",
		"<p>Body of <em>2025/trips/alps</em></p>", // sanitised HTML goes in unescaped
		`<time datetime="2025-03-01T12:00:00Z">2025-03-01</time>`,
		`<time datetime="2025-03-03T12:00:00Z">2025-03-03</time>`,
		"by Bob", "<li>go</li>", "<li>feeds</li>",
		`<a href="https://example.org/blog/">`,
		`<html lang="en">`,
	} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("article page lacks %q", want)
		}
	}

	for _, p := range []string{"/articles/missing", "/articles/2025/trips", "/articles/", "/nope", "/feed.atom/x", "/healthz/x"} {
		if resp, _ := do(t, client, "GET", srv.URL+p, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", p, resp.StatusCode)
		}
	}
}

func TestEscapedSlug(t *testing.T) {
	_, srv, client := newUpdated(t, Options{}, []content.Article{article(1, "notes/été 2025")})
	_, page := do(t, client, "GET", srv.URL+"/", nil)
	links := indexLinks(t, page)
	if len(links) != 1 {
		t.Fatalf("index links %q", links)
	}
	u, err := url.Parse(links[0])
	if err != nil {
		t.Fatal(err)
	}
	resp, body := do(t, client, "GET", srv.URL+strings.TrimPrefix(u.EscapedPath(), "/blog"), nil)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("été 2025")) {
		t.Errorf("GET %s: status %d", u.EscapedPath(), resp.StatusCode)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	_, srv, client := newUpdated(t, Options{}, sampleArticles())
	for _, p := range append(slices.Clone(servedPaths), "/healthz") {
		for _, m := range []string{"POST", "PUT", "DELETE"} {
			resp, _ := do(t, client, m, srv.URL+p, nil)
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: status %d, want 405", m, p, resp.StatusCode)
				continue
			}
			allow := resp.Header.Get("Allow")
			if !strings.Contains(allow, "GET") || !strings.Contains(allow, "HEAD") {
				t.Errorf("%s %s: Allow %q", m, p, allow)
			}
		}
	}
}

func TestHealthz(t *testing.T) {
	h := NewHandler(testSite(t), Options{})
	srv, client := newServer(t, h)

	if resp, _ := do(t, client, "GET", srv.URL+"/healthz", nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("before SetReady: status %d, want 503", resp.StatusCode)
	}
	if err := h.Update(ptrs(sampleArticles())); err != nil {
		t.Fatal(err)
	}
	if resp, _ := do(t, client, "GET", srv.URL+"/healthz", nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("after Update, before SetReady: status %d, want 503", resp.StatusCode)
	}
	h.SetReady()
	resp, body := do(t, client, "GET", srv.URL+"/healthz", nil)
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
		t.Errorf("after SetReady: status %d, body %q", resp.StatusCode, body)
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options %q", got)
	}
}

func TestBeforeFirstUpdate(t *testing.T) {
	h := NewHandler(testSite(t), Options{})
	srv, client := newServer(t, h)
	for _, p := range []string{"/feed.atom", "/", "/articles/first"} {
		resp, _ := do(t, client, "GET", srv.URL+p, nil)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s: status %d, Retry-After %q; want 503 with Retry-After", p, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
}

func TestEmpty(t *testing.T) {
	_, srv, client := newUpdated(t, Options{}, nil)
	for _, p := range feedPaths {
		if f := parseFeed(t, client, srv.URL+p); len(f.Items) != 0 {
			t.Errorf("%s: %d items, want 0", p, len(f.Items))
		}
	}
	resp, page := do(t, client, "GET", srv.URL+"/", nil)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(page, []byte("Nothing published yet")) {
		t.Errorf("index: status %d, body:\n%s", resp.StatusCode, page)
	}
}

// TestUpdateFails covers the one way Update can fail: a site without an
// absolute base URL. Nothing is served then.
func TestUpdateFails(t *testing.T) {
	for _, base := range []*url.URL{nil, {Path: "/blog/"}} {
		h := NewHandler(Site{Title: "no base", BaseURL: base}, Options{})
		if err := h.Update(ptrs(sampleArticles())); err == nil {
			t.Fatalf("Update succeeded with base URL %v", base)
		}
		srv, client := newServer(t, h)
		if resp, _ := do(t, client, "GET", srv.URL+"/feed.atom", nil); resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("status %d after a failed first Update, want 503", resp.StatusCode)
		}
	}
}

// TestUnreadableBody checks that a version whose article bodies cannot be
// read (the Library's body file is gone) is refused with the file named,
// and the last good feed stays served.
func TestUnreadableBody(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	lib, err := content.OpenLibrary(dir, st, content.LibraryOptions{BodyDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, title string) {
		text := "---\ntitle: " + title + "\n---\nThe body of " + title + ".\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("one.md", "One")
	if _, err := lib.Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	h, srv, client := newUpdated(t, Options{}, vals(lib.Articles()))
	_, before := do(t, client, "GET", srv.URL+"/feed.atom", nil)
	if !bytes.Contains(before, []byte("The body of One.")) {
		t.Fatalf("feed lacks the body read from disk:\n%s", before)
	}

	if err := lib.Close(); err != nil {
		t.Fatal(err)
	}
	write("two.md", "Two")
	if _, err := lib.Apply(t.Context(), []string{"two.md"}); err != nil {
		t.Fatal(err)
	}
	err = h.Update(lib.Articles())
	if err == nil || !strings.Contains(err.Error(), "one.md") {
		t.Fatalf("Update with an unreadable body: err = %v, want one naming one.md", err)
	}
	if resp, after := do(t, client, "GET", srv.URL+"/feed.atom", nil); resp.StatusCode != http.StatusOK || !bytes.Equal(after, before) {
		t.Errorf("after a failed Update: status %d, feed changed: %v", resp.StatusCode, !bytes.Equal(after, before))
	}
}

// TestConcurrentUpdates runs requests while versions are swapped, for the race detector.
func TestConcurrentUpdates(t *testing.T) {
	h, srv, client := newUpdated(t, Options{}, sampleArticles())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 20 {
			a := sampleArticles()
			a[0].Title = fmt.Sprint("rev ", i)
			if err := h.Update(ptrs(a)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for range 20 {
		for _, p := range servedPaths {
			if resp, _ := do(t, client, "GET", srv.URL+p, map[string]string{"Accept-Encoding": "gzip"}); resp.StatusCode != http.StatusOK {
				t.Errorf("%s: status %d", p, resp.StatusCode)
			}
		}
	}
	<-done
}

func benchHandler(b *testing.B) *Handler {
	var articles []content.Article
	for i := range 100 {
		a := article(i, fmt.Sprintf("2025/post-%03d", i))
		a.HTML = strings.Repeat("<p>Some paragraph of article text, long enough to be worth compressing.</p>\n", 40)
		articles = append(articles, a)
	}
	h := NewHandler(testSite(b), Options{})
	if err := h.Update(ptrs(articles)); err != nil {
		b.Fatal(err)
	}
	return h
}

func BenchmarkServeConditional(b *testing.B) {
	h := benchHandler(b)
	req := httptest.NewRequest("GET", "/feed.atom", nil)
	req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	req.Header.Set("If-None-Match", rec.Header().Get("ETag"))
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNotModified {
			b.Fatalf("status %d, want 304", rec.Code)
		}
	}
}

func BenchmarkServeGzip(b *testing.B) {
	h := benchHandler(b)
	req := httptest.NewRequest("GET", "/feed.atom", nil)
	req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Encoding") != "gzip" {
			b.Fatalf("status %d, encoding %q", rec.Code, rec.Header().Get("Content-Encoding"))
		}
	}
}

func TestStylesheetRoute(t *testing.T) {
	// The style sheet does not depend on the articles: it is served before the first Update.
	h := NewHandler(testSite(t), Options{})
	srv, client := newServer(t, h)
	resp, body := do(t, client, "GET", srv.URL+"/feed.xsl", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/xsl; charset=utf-8" {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !bytes.Equal(body, stylesheet) {
		t.Error("body is not the embedded style sheet")
	}
	if err := xml.Unmarshal(body, new(struct{})); err != nil {
		t.Errorf("style sheet is not well-formed XML: %v", err)
	}
	etag := resp.Header.Get("ETag")
	if etag == "" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("ETag %q, nosniff %q", etag, resp.Header.Get("X-Content-Type-Options"))
	}
	resp, _ = do(t, client, "GET", srv.URL+"/feed.xsl", map[string]string{"If-None-Match": etag})
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", resp.StatusCode)
	}
	resp, gz := do(t, client, "GET", srv.URL+"/feed.xsl", map[string]string{"Accept-Encoding": "gzip"})
	if resp.Header.Get("Content-Encoding") != "gzip" || !bytes.Equal(gunzip(t, gz), stylesheet) {
		t.Errorf("gzip: Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
	if err := h.Update(ptrs(sampleArticles())); err != nil {
		t.Fatal(err)
	}
	if resp, _ = do(t, client, "GET", srv.URL+"/feed.xsl", nil); resp.Header.Get("ETag") != etag {
		t.Errorf("ETag changed with the articles: %q, then %q", etag, resp.Header.Get("ETag"))
	}
}

// ptrs returns pointers to copies of articles, as a Library hands them
// out: the Handler keeps them, so the caller's slice may change after.
func ptrs(articles []content.Article) []*content.Article {
	out := make([]*content.Article, len(articles))
	for i, a := range articles {
		out[i] = &a
	}
	return out
}

// vals returns copies of the articles a Library handed out.
func vals(articles []*content.Article) []content.Article {
	out := make([]content.Article, len(articles))
	for i, a := range articles {
		out[i] = *a
	}
	return out
}

// A change builds feed entries only for the articles it brings: the
// others' entries are those of the last version, and an article no feed
// shows any more is not kept.
func TestUpdateReusesEntries(t *testing.T) {
	h := NewHandler(testSite(t), Options{})
	t.Cleanup(func() { h.Close() })
	articles := ptrs(sampleArticles())
	for _, a := range articles {
		// A relative URL: each build of the entry makes a new string.
		a.HTML = `<p>See <a href="notes">the notes</a> of ` + a.Slug + `.</p>`
	}
	if err := h.Update(articles); err != nil {
		t.Fatal(err)
	}
	gone, shared := articles[0], articles[1]
	before, ok := h.entries[shared]
	if !ok {
		t.Fatal("no entry kept for an article the feeds show")
	}
	added := article(4, "fourth")
	if err := h.Update([]*content.Article{&added, articles[1], articles[2]}); err != nil {
		t.Fatal(err)
	}
	after, ok := h.entries[shared]
	if !ok {
		t.Fatal("no entry kept for an article the feeds still show")
	}
	if unsafe.StringData(after.html) != unsafe.StringData(before.html) {
		t.Error("the entry of an unchanged article was built again")
	}
	if fresh, err := newEntry(h.site.BaseURL, shared); err != nil || !reflect.DeepEqual(fresh, after) {
		t.Errorf("kept entry %+v, built anew %+v (%v)", after, fresh, err)
	}
	if _, ok := h.entries[&added]; !ok {
		t.Error("no entry kept for the added article")
	}
	if _, ok := h.entries[gone]; ok {
		t.Error("the entry of an article no feed shows is still kept")
	}
}
