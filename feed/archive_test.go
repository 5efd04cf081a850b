package feed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
	ext "github.com/mmcdole/gofeed/extensions"
	"github.com/mmcdole/gofeed/rss"

	"github.com/dropfeed/dropfeed/content"
)

// feedDoc is what a reader learns from one feed document: its item ids in
// order, its links by relation, its RFC 5005 markers and its hubs.
type feedDoc struct {
	ids      []string
	links    map[string]string // href by rel, hubs left out
	hubs     []string
	complete bool
	archive  bool
}

// readDoc parses one feed document, with gofeed, in the format of its extension.
func readDoc(t *testing.T, format string, body []byte) feedDoc {
	t.Helper()
	d := feedDoc{links: map[string]string{}}
	addLink := func(rel, href string) {
		if rel == "hub" {
			d.hubs = append(d.hubs, href)
			return
		}
		if _, dup := d.links[rel]; dup {
			t.Errorf("%s: two %q links", format, rel)
		}
		d.links[rel] = href
	}
	markers := func(e ext.Extensions) {
		_, d.complete = e["fh"]["complete"]
		_, d.archive = e["fh"]["archive"]
	}
	switch format {
	case "atom":
		f, err := (&atom.Parser{}).Parse(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("parse Atom: %v\n%s", err, body)
		}
		for _, e := range f.Entries {
			d.ids = append(d.ids, e.ID)
		}
		for _, l := range f.Links {
			addLink(l.Rel, l.Href)
		}
		markers(f.Extensions)
	case "rss":
		f, err := (&rss.Parser{}).Parse(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("parse RSS: %v\n%s", err, body)
		}
		for _, it := range f.Items {
			d.ids = append(d.ids, it.GUID.Value)
		}
		for _, l := range f.Extensions["atom"]["link"] {
			addLink(l.Attrs["rel"], l.Attrs["href"])
		}
		markers(f.Extensions)
	case "json":
		f, err := gofeed.NewParser().ParseString(string(body))
		if err != nil || f.FeedType != "json" {
			t.Fatalf("parse JSON Feed (%v): %v\n%s", f, err, body)
		}
		for _, it := range f.Items {
			d.ids = append(d.ids, it.GUID)
		}
		// gofeed reads next_url but neither hubs nor extensions.
		var raw struct {
			Self    string `json:"feed_url"`
			NextURL string `json:"next_url"`
			Hubs    []struct{ Type, URL string }
			Archive *jsonArchive `json:"_archive"`
		}
		if err := json.Unmarshal(body, &raw); err != nil {
			t.Fatal(err)
		}
		addLink("self", raw.Self)
		for _, h := range raw.Hubs {
			if h.Type != "WebSub" {
				t.Errorf("hub type %q", h.Type)
			}
			addLink("hub", h.URL)
		}
		if raw.NextURL != "" {
			addLink("prev-archive", raw.NextURL)
		}
		if a := raw.Archive; a != nil {
			d.complete, d.archive = a.Complete, a.Archive
			if a.Current != "" {
				addLink("current", a.Current)
			}
			if a.NextArchive != "" {
				addLink("next-archive", a.NextArchive)
			}
			if a.PrevArchive != raw.NextURL {
				t.Errorf("_archive.prev_archive %q, next_url %q", a.PrevArchive, raw.NextURL)
			}
		}
	default:
		t.Fatalf("unknown format %q", format)
	}
	return d
}

// localURL turns a URL under the test site's base URL into one on srv.
func localURL(t *testing.T, srv *httptest.Server, abs string) string {
	t.Helper()
	rest, ok := strings.CutPrefix(abs, "https://example.org/blog/")
	if !ok {
		t.Fatalf("URL %q is not under the base URL", abs)
	}
	return srv.URL + "/" + rest
}

// fetchDoc GETs and parses one feed document.
func fetchDoc(t *testing.T, client *http.Client, srv *httptest.Server, format, abs string) (feedDoc, *http.Response) {
	t.Helper()
	resp, body := do(t, client, "GET", localURL(t, srv, abs), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", abs, resp.StatusCode)
	}
	return readDoc(t, format, body), resp
}

// numbered returns n articles published an hour apart, the oldest first.
func numbered(n int) []content.Article {
	articles := make([]content.Article, n)
	for i := range articles {
		articles[i] = article(i, fmt.Sprintf("a%03d", i))
	}
	return articles
}

// ids returns the articles' ids.
func ids(articles []content.Article) []string {
	out := make([]string, len(articles))
	for i, a := range articles {
		out[i] = a.ID
	}
	return out
}

// followArchives reads the main feed in one format, then every archive
// page through prev-archive links, checking each document's links and
// markers, and returns the ids in reading order and the pages read.
func followArchives(t *testing.T, client *http.Client, srv *httptest.Server, format string) (seen, pages []string) {
	t.Helper()
	mainURL := "https://example.org/blog/feed." + format
	d, _ := fetchDoc(t, client, srv, format, mainURL)
	seen = d.ids
	if d.archive {
		t.Errorf("%s: main feed marked as an archive", format)
	}
	next, ok := d.links["prev-archive"]
	if d.complete == ok {
		t.Errorf("%s: main feed complete=%v with prev-archive %q", format, d.complete, next)
	}
	newer := ""
	for ok {
		if len(pages) > 100 {
			t.Fatalf("%s: archive links loop: %q", format, pages)
		}
		pages = append(pages, next)
		page, _ := fetchDoc(t, client, srv, format, next)
		if !page.archive || page.complete {
			t.Errorf("%s: %s: archive %v complete %v", format, next, page.archive, page.complete)
		}
		if page.links["current"] != mainURL || page.links["self"] != next {
			t.Errorf("%s: %s: current %q self %q", format, next, page.links["current"], page.links["self"])
		}
		if format != "json" && page.links["next-archive"] != newer || format == "json" && newer != "" && page.links["next-archive"] != newer {
			t.Errorf("%s: %s: next-archive %q, want %q", format, next, page.links["next-archive"], newer)
		}
		seen = append(seen, page.ids...)
		newer = next
		next, ok = page.links["prev-archive"]
	}
	return seen, pages
}

func TestArchivesHoldEveryArticleOnce(t *testing.T) {
	tests := []struct {
		articles, limit, pages int
	}{
		{0, 3, 0},
		{2, 3, 0},
		{3, 3, 0},
		{4, 3, 1},
		{6, 3, 1},
		{7, 3, 2},
		{11, 3, 3},
		{25, 1, 24},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d articles, limit %d", tt.articles, tt.limit), func(t *testing.T) {
			articles := numbered(tt.articles)
			// A draft and a future article are on no page.
			draft, future := article(1000, "draft"), article(1001, "future")
			draft.Draft, future.Published = true, time.Now().Add(24*time.Hour)
			_, srv, client := newUpdated(t, Options{Limit: tt.limit}, append(articles, draft, future))
			want := ids(articles)
			slices.Reverse(want)
			for _, format := range feedExts {
				seen, pages := followArchives(t, client, srv, format)
				// Newest first throughout: the main feed, then each older page.
				if !slices.Equal(seen, want) {
					t.Errorf("%s: read %q, want %q", format, seen, want)
				}
				if len(pages) != tt.pages {
					t.Errorf("%s: %d archive pages, want %d", format, len(pages), tt.pages)
				}
			}
		})
	}
}

func TestArchivePageContents(t *testing.T) {
	// 3 in the main feed, 7 archived: pages of 3, 3 and 1, the oldest first.
	_, srv, client := newUpdated(t, Options{Limit: 3}, numbered(10))
	all := ids(numbered(10))
	want := map[string][]string{
		"feed":      {all[9], all[8], all[7]},
		"archive/3": {all[6]},
		"archive/2": {all[5], all[4], all[3]},
		"archive/1": {all[2], all[1], all[0]},
	}
	for path, w := range want {
		d, resp := fetchDoc(t, client, srv, "atom", "https://example.org/blog/"+path+".atom")
		if !slices.Equal(d.ids, w) {
			t.Errorf("%s: ids %q, want %q", path, d.ids, w)
		}
		wantCC := "public, max-age=300"
		if path == "archive/1" || path == "archive/2" {
			wantCC = "public, max-age=31536000, immutable"
		}
		if got := resp.Header.Get("Cache-Control"); got != wantCC {
			t.Errorf("%s: Cache-Control %q, want %q", path, got, wantCC)
		}
	}
	for _, p := range []string{"/archive/4.atom", "/archive/0.atom", "/archive/1.xml", "/archive/1", "/archive/"} {
		if resp, _ := do(t, client, "GET", srv.URL+p, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", p, resp.StatusCode)
		}
	}
}

// TestSealedArchivesKeepTheirBytes adds articles one at a time: an archive
// page, in every format and as HTML, once a newer page exists, is served with the same bytes, ETag and
// Last-Modified for ever after.
func TestSealedArchivesKeepTheirBytes(t *testing.T) {
	articles := numbered(30)
	h, srv, client := newUpdated(t, Options{Limit: 3}, articles[:4])
	type served struct {
		body         []byte
		etag, lastMo string
	}
	sealed := map[string]served{}
	for n := 5; n <= len(articles); n++ {
		if err := h.Update(ptrs(articles[:n])); err != nil {
			t.Fatal(err)
		}
		pages := archivePageCount(n-3, 3)
		for page := 1; page <= pages; page++ {
			for _, format := range append(slices.Clone(feedExts), "html") {
				path := fmt.Sprintf("/archive/%d.%s", page, format)
				for _, enc := range []string{"", "gzip"} {
					resp, body := do(t, client, "GET", srv.URL+path, map[string]string{"Accept-Encoding": enc})
					if resp.StatusCode != http.StatusOK {
						t.Fatalf("%d articles: %s: status %d", n, path, resp.StatusCode)
					}
					isSealed := page < pages
					if immutable := strings.Contains(resp.Header.Get("Cache-Control"), "immutable"); immutable != isSealed {
						t.Errorf("%d articles: %s: Cache-Control %q, sealed %v", n, path, resp.Header.Get("Cache-Control"), isSealed)
					}
					if !isSealed {
						continue
					}
					got := served{body, resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")}
					key := path + " " + enc
					if first, ok := sealed[key]; !ok {
						sealed[key] = got
					} else if !bytes.Equal(first.body, got.body) || first.etag != got.etag || first.lastMo != got.lastMo {
						t.Errorf("%d articles: sealed %s changed", n, key)
					}
				}
			}
		}
	}
	if len(sealed) < 8*4*2 {
		t.Errorf("only %d sealed documents checked", len(sealed))
	}
}

func TestByteCapMovesItemsToArchives(t *testing.T) {
	articles := numbered(20)
	for i := range articles {
		articles[i].HTML = strings.Repeat(fmt.Sprintf("<p>Paragraph %d of a long article.</p>\n", i), 100)
	}
	articles[19].HTML = strings.Repeat("<p>The newest article alone is over the cap.</p>", 2000)
	const maxBytes = 30_000
	for _, tt := range []struct {
		name    string
		in      []content.Article
		maxSeen int
	}{
		{"several fit", articles[:19], 19},
		{"one too big", articles, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, srv, client := newUpdated(t, Options{Limit: 50, MaxFeedBytes: maxBytes}, tt.in)
			var counts []int
			for _, format := range feedExts {
				resp, body := do(t, client, "GET", srv.URL+"/feed."+format, nil)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d", resp.StatusCode)
				}
				d := readDoc(t, format, body)
				counts = append(counts, len(d.ids))
				if len(d.ids) > 1 && len(body) > maxBytes {
					t.Errorf("%s: %d bytes with %d items, over the cap", format, len(body), len(d.ids))
				}
				want := ids(tt.in)
				slices.Reverse(want)
				if seen, _ := followArchives(t, client, srv, format); !slices.Equal(seen, want) {
					t.Errorf("%s: read %d ids, want all %d once", format, len(seen), len(want))
				}
			}
			// One partition for all formats, so the archives are the same in each.
			if counts[0] != counts[1] || counts[1] != counts[2] || counts[0] < 1 || counts[0] > tt.maxSeen || counts[0] == len(tt.in) {
				t.Errorf("main feed items per format %v", counts)
			}
		})
	}
}

func TestTagSlug(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Go", "go"},
		{"  web   dev ", "web-dev"},
		{"Web-Dev", "web-dev"},
		{"node.js", "node-js"},
		{"C++", "c"},
		{"../../etc/passwd", "etc-passwd"},
		{"a/b\\c", "a-b-c"},
		{"Été", "été"},
		{"E\u0301te\u0301", "été"}, // decomposed accents are composed
		{"STRASSE", "strasse"},
		{"Straße", "strasse"},
		{"日本語", "日本語"},
		{"!!!", ""},
		{"", ""},
		{"%2F?#", "2f"},
		{strings.Repeat("x", 300), strings.Repeat("x", maxTagSlug)},
	}
	for _, tt := range tests {
		if got := tagSlug(tt.in); got != tt.want {
			t.Errorf("tagSlug(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func tagArticles() []content.Article {
	a := numbered(5)
	a[0].Tags = []string{"Go", "Web Dev"}
	a[1].Tags = []string{"go", "GO"}
	a[2].Tags = []string{"web-dev", "Été"}
	a[3].Tags = []string{"!!!"}
	a[4].Tags = []string{"Go"}
	return a
}

func TestTagFeeds(t *testing.T) {
	articles := tagArticles()
	_, srv, client := newUpdated(t, Options{Limit: 2}, articles)
	all := ids(articles)
	tests := []struct {
		slug     string
		title    string
		ids      []string
		complete bool
	}{
		{"go", "Test site: Go", []string{all[4], all[1]}, false},
		{"web-dev", "Test site: web-dev", []string{all[2], all[0]}, true},
		{"été", "Test site: Été", []string{all[2]}, true},
	}
	for _, tt := range tests {
		for _, format := range feedExts {
			abs := docURL(testSite(t).BaseURL, tagPath(tt.slug), format)
			d, resp := fetchDoc(t, client, srv, format, abs)
			if !slices.Equal(d.ids, tt.ids) || d.complete != tt.complete || d.archive {
				t.Errorf("%s: ids %q complete %v archive %v; want %q %v", abs, d.ids, d.complete, d.archive, tt.ids, tt.complete)
			}
			if d.links["self"] != abs || len(d.links) > 2 {
				t.Errorf("%s: links %v", abs, d.links)
			}
			if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, "application/") {
				t.Errorf("%s: Content-Type %q", abs, got)
			}
			f, err := gofeed.NewParser().ParseString(string(mustGet(t, client, localURL(t, srv, abs))))
			if err != nil || f.Title != tt.title {
				t.Errorf("%s: title %q (%v), want %q", abs, f.Title, err, tt.title)
			}
		}
	}
	for _, p := range []string{"/tags/Go.atom", "/tags/c.atom", "/tags/.atom", "/tags/go", "/tags/go.xml"} {
		if resp, _ := do(t, client, "GET", srv.URL+p, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", p, resp.StatusCode)
		}
	}

	_, page := do(t, client, "GET", srv.URL+"/", nil)
	for _, want := range []string{
		`Go (3): <a href="https://example.org/blog/tags/go.atom" type="application/atom+xml">Atom</a>`,
		`<a href="https://example.org/blog/tags/web-dev.rss" type="application/rss+xml">RSS</a>`,
		`<a href="https://example.org/blog/tags/%C3%A9t%C3%A9.json" type="application/feed+json">JSON Feed</a>`,
	} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("index lacks %q", want)
		}
	}
}

// mustGet returns the body of a 200 response to GET rawURL.
func mustGet(t *testing.T, client *http.Client, rawURL string) []byte {
	t.Helper()
	resp, body := do(t, client, "GET", rawURL, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", rawURL, resp.StatusCode)
	}
	return body
}

// BenchmarkUpdateOneMore measures an Update that adds one article to 2000:
// sealed archive pages and unchanged tag feeds are reused, not rendered.
func BenchmarkUpdateOneMore(b *testing.B) {
	articles := numbered(2001)
	for i := range articles {
		articles[i].Tags = []string{fmt.Sprintf("tag%d", i%40)}
		articles[i].Hash = fmt.Sprint(i)
	}
	h := NewHandler(testSite(b), Options{})
	b.Cleanup(func() { h.Close() })
	for b.Loop() {
		b.StopTimer()
		if err := h.Update(ptrs(articles[:2000])); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := h.Update(ptrs(articles)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestArchivePaths checks which archive paths are served, by net/http
// and by the fasthttp server: the pages' own, written as archivePath
// writes them, and no other spelling of a number.
func TestArchivePaths(t *testing.T) {
	h, srv, _ := newUpdated(t, Options{Limit: 2}, numbered(8)) // 6 archived: 3 pages
	fast := startFast(t, h)
	c := rawClient(t)
	tests := []struct {
		path string
		want int
	}{
		{"/archive/1.atom", http.StatusOK},
		{"/archive/2.rss", http.StatusOK},
		{"/archive/3.json", http.StatusOK},
		{"/archive/3.html", http.StatusOK},
		{"/archive/4.atom", http.StatusNotFound},
		{"/archive/0.atom", http.StatusNotFound},
		{"/archive/01.atom", http.StatusNotFound},
		{"/archive/+1.atom", http.StatusNotFound},
		{"/archive/-1.atom", http.StatusNotFound},
		{"/archive/1_0.atom", http.StatusNotFound},
		{"/archive/99999999999999999999.atom", http.StatusNotFound},
		{"/archive/1.xml", http.StatusNotFound},
		{"/archive/1", http.StatusNotFound},
		{"/archive/1.atom.gz", http.StatusNotFound},
		{"/archive/.atom", http.StatusNotFound},
		{"/archive/", http.StatusNotFound},
	}
	for _, tt := range tests {
		for _, base := range []string{srv.URL, fast} {
			if got := fetch(t, c, "GET", base, tt.path, nil); got.status != tt.want {
				t.Errorf("%s%s: status %d, want %d", base, tt.path, got.status, tt.want)
			}
		}
	}
}
