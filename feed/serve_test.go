package feed

import (
	"bytes"
	"cmp"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// nullWriter is a ResponseWriter that keeps nothing: it measures the
// handler's own cost, not the network's.
type nullWriter struct {
	header http.Header
	status int
	n      int
}

func (w *nullWriter) Header() http.Header { return w.header }
func (w *nullWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *nullWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(b)
	return len(b), nil
}

// BenchmarkServeFeed measures Handler.ServeHTTP for the requests pollers
// make most: a gzip GET of the feed, and conditional GETs whose ETag still
// matches, alone or beside If-Modified-Since as many feed readers send it.
func BenchmarkServeFeed(b *testing.B) {
	h := NewHandler(testSite(b), Options{})
	b.Cleanup(func() { h.Close() })
	if err := h.Update(ptrs(numbered(60))); err != nil {
		b.Fatal(err)
	}
	probe := httptest.NewRecorder()
	h.ServeHTTP(probe, gzipGet(nil))
	etag, lastMod := probe.Header().Get("ETag"), probe.Header().Get("Last-Modified")
	for _, bench := range []struct {
		name   string
		header http.Header
		status int
	}{
		{"gzip200", nil, http.StatusOK},
		{"ifNoneMatch304", http.Header{"If-None-Match": {etag}}, http.StatusNotModified},
		{"ifNoneMatchAndSince304", http.Header{"If-None-Match": {etag}, "If-Modified-Since": {lastMod}}, http.StatusNotModified},
	} {
		b.Run(bench.name, func(b *testing.B) {
			b.ReportAllocs()
			r := gzipGet(bench.header)
			w := &nullWriter{header: http.Header{}}
			for b.Loop() {
				clear(w.header)
				w.status = 0
				h.ServeHTTP(w, r)
				if w.status != bench.status {
					b.Fatalf("status %d, want %d", w.status, bench.status)
				}
			}
		})
	}
}

// gzipGet is a GET of /feed.atom accepting gzip, with header added.
func gzipGet(header http.Header) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/feed.atom", nil)
	r.Header.Set("Accept-Encoding", "gzip, deflate, br")
	maps.Copy(r.Header, header)
	return r
}

// serveWithServeContent is how send served every request before its fast
// paths: everything through http.ServeContent. The fast paths must answer
// exactly as it does.
func serveWithServeContent(h *Handler, w http.ResponseWriter, r *http.Request, res *resource) {
	p, err := res.payload()
	if err != nil {
		panic(err)
	}
	hdr := w.Header()
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Type", res.contentType)
	hdr.Set("Cache-Control", cmp.Or(res.cacheControl, h.cacheControl[0]))
	hdr.Add("Vary", "Accept-Encoding")
	if res.html {
		hdr.Set("Content-Security-Policy", pageCSP)
	}
	if res.feed {
		for _, hub := range h.hubs {
			hdr.Add("Link", "<"+hub+">; rel=\"hub\"")
		}
		if len(h.hubs) > 0 {
			hdr.Add("Link", "<"+res.self+">; rel=\"self\"")
		}
	}
	body, etag := p.body, p.etag
	if acceptsGzip(r.Header.Values("Accept-Encoding")) {
		body, etag = p.gz(), p.gzETag
		hdr.Set("Content-Encoding", "gzip")
		hdr.Set("Content-Length", strconv.Itoa(len(body)))
		r.Header.Del("Range")
	}
	hdr.Set("ETag", etag)
	http.ServeContent(w, r, "", res.modTime, bytes.NewReader(body))
}

func TestSendMatchesServeContent(t *testing.T) {
	for _, opts := range []Options{{}, {Hubs: []string{"https://hub.example/", "https://hub2.example/"}}} {
		h := NewHandler(testSite(t), opts)
		t.Cleanup(func() { h.Close() })
		if err := h.Update(ptrs(numbered(60))); err != nil {
			t.Fatal(err)
		}
		v := h.current.Load()
		atom := v.files["feed.atom"]
		p, _ := atom.payload()
		etag, gzETag := p.etag, p.gzETag
		lastMod := atom.modTime.UTC().Format(http.TimeFormat)
		before := atom.modTime.Add(-time.Hour).UTC().Format(http.TimeFormat)
		targets := map[string]*resource{"/feed.atom": atom, "/feed.json": v.files["feed.json"], "/": v.files[""],
			"/" + StylesheetName: h.stylesheet, "/archive/1.atom": v.file("archive/1.atom"), "/archive/1.html": v.file("archive/1.html")}
		for path, res := range targets {
			if res == nil {
				t.Fatalf("no document for %s", path)
			}
		}
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			for _, tt := range conditionalCases(etag, gzETag, lastMod, before) {
				for path, res := range targets {
					name := method + " " + path + " " + tt.name
					if len(opts.Hubs) > 0 {
						name = "hubs " + name
					}
					t.Run(name, func(t *testing.T) {
						request := func() *http.Request {
							r := httptest.NewRequest(method, path, nil)
							maps.Copy(r.Header, tt.header)
							return r
						}
						got, want := httptest.NewRecorder(), httptest.NewRecorder()
						h.ServeHTTP(got, request())
						serveWithServeContent(h, want, request(), res)
						if got.Code != want.Code {
							t.Errorf("status %d, ServeContent %d", got.Code, want.Code)
						}
						if !reflect.DeepEqual(got.Header(), want.Header()) {
							t.Errorf("headers\n%v\nServeContent\n%v", got.Header(), want.Header())
						}
						if !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
							t.Errorf("body of %d bytes, ServeContent %d", got.Body.Len(), want.Body.Len())
						}
					})
				}
			}
		}
	}
}

// headerCase is a request's header fields, named.
type headerCase struct {
	name   string
	header http.Header
}

// conditionalCases are requests for a document whose identity and gzip
// ETags are etag and gzETag and whose Last-Modified is lastMod, before an
// earlier time: every kind of precondition, range and encoding.
func conditionalCases(etag, gzETag, lastMod, before string) []headerCase {
	return []headerCase{
		{"plain", nil},
		{"gzip", http.Header{"Accept-Encoding": {"gzip"}}},
		{"gzip browser", http.Header{"Accept-Encoding": {"gzip, deflate, br, zstd"}}},
		{"gzip upper case", http.Header{"Accept-Encoding": {"GZIP"}}},
		{"x-gzip", http.Header{"Accept-Encoding": {"x-gzip"}}},
		{"gzip in two lines", http.Header{"Accept-Encoding": {"br", "gzip"}}},
		{"gzip refused", http.Header{"Accept-Encoding": {"gzip;q=0, identity"}}},
		{"br only", http.Header{"Accept-Encoding": {"br"}}},
		{"etag matches", http.Header{"If-None-Match": {etag}}},
		{"gzip etag matches", http.Header{"Accept-Encoding": {"gzip"}, "If-None-Match": {gzETag}}},
		{"gzip etag without gzip", http.Header{"If-None-Match": {gzETag}}},
		{"identity etag sent with gzip", http.Header{"Accept-Encoding": {"gzip"}, "If-None-Match": {etag}}},
		{"etag differs", http.Header{"If-None-Match": {`"other"`}}},
		{"etag empty", http.Header{"If-None-Match": {""}}},
		{"etag padded", http.Header{"If-None-Match": {" " + etag + " "}}},
		{"etag list", http.Header{"If-None-Match": {`"other", ` + etag}}},
		{"etag in second line", http.Header{"If-None-Match": {`"other"`, etag}}},
		{"etag in first line", http.Header{"If-None-Match": {etag, `"other"`}}},
		{"etag star", http.Header{"If-None-Match": {"*"}}},
		{"weak etag", http.Header{"If-None-Match": {"W/" + etag}}},
		{"gzip weak etag", http.Header{"Accept-Encoding": {"gzip"}, "If-None-Match": {"W/" + gzETag}}},
		{"if-modified-since now", http.Header{"If-Modified-Since": {lastMod}}},
		{"if-modified-since before", http.Header{"If-Modified-Since": {before}}},
		{"both", http.Header{"If-None-Match": {etag}, "If-Modified-Since": {before}}},
		{"etag differs, not modified", http.Header{"If-None-Match": {`"other"`}, "If-Modified-Since": {lastMod}}},
		{"gzip etag matches, modified since", http.Header{"Accept-Encoding": {"gzip"}, "If-None-Match": {gzETag}, "If-Modified-Since": {before}}},
		{"etag matches, range", http.Header{"If-None-Match": {etag}, "Range": {"bytes=0-9"}}},
		{"etag matches, if-range", http.Header{"If-None-Match": {etag}, "Range": {"bytes=0-9"}, "If-Range": {`"other"`}}},
		{"etag matches, if-unmodified-since before", http.Header{"If-None-Match": {etag}, "If-Unmodified-Since": {before}}},
		{"etag matches, if-match", http.Header{"If-None-Match": {etag}, "If-Match": {etag}}},
		{"if-range without range", http.Header{"If-Range": {`"other"`}}},
		{"if-match", http.Header{"If-Match": {etag}}},
		{"if-match fails", http.Header{"If-Match": {`"other"`}}},
		{"if-match fails, etag matches", http.Header{"If-Match": {`"other"`}, "If-None-Match": {etag}}},
		{"if-unmodified-since before", http.Header{"If-Unmodified-Since": {before}}},
		{"range", http.Header{"Range": {"bytes=0-9"}}},
		{"range with gzip", http.Header{"Range": {"bytes=0-9"}, "Accept-Encoding": {"gzip"}}},
		{"range with gzip and etag", http.Header{"Range": {"bytes=0-9"}, "Accept-Encoding": {"gzip"}, "If-None-Match": {gzETag}}},
		{"if-range", http.Header{"Range": {"bytes=0-9"}, "If-Range": {etag}}},
		{"if-range differs", http.Header{"Range": {"bytes=0-9"}, "If-Range": {`"other"`}}},
		{"bad range", http.Header{"Range": {"bytes=999999999-"}}},
	}
}

// TestRequestCounts checks the status each route is counted under, on the
// direct routes and through the mux, for statuses send writes itself and
// those ServeContent and the mux write: through ServeHTTP, and through the
// fasthttp server, which answers some of them without ServeHTTP.
func TestRequestCounts(t *testing.T) {
	// requester sends a request to h and returns the response's header and body.
	type requester func(t *testing.T, h *Handler, method, path string, header http.Header) (http.Header, []byte)
	for _, via := range []struct {
		name  string
		start func(t *testing.T, h *Handler) requester
	}{
		{"ServeHTTP", func(*testing.T, *Handler) requester {
			return func(_ *testing.T, h *Handler, method, path string, header http.Header) (http.Header, []byte) {
				r := httptest.NewRequest(method, path, nil)
				maps.Copy(r.Header, header)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				return w.Header(), w.Body.Bytes()
			}
		}},
		{"fasthttp", func(t *testing.T, h *Handler) requester {
			base, c := startFast(t, h), rawClient(t)
			return func(t *testing.T, _ *Handler, method, path string, header http.Header) (http.Header, []byte) {
				resp := fetch(t, c, method, base, path, header)
				return resp.header, resp.body
			}
		}},
	} {
		t.Run(via.name, func(t *testing.T) {
			h := NewHandler(testSite(t), Options{})
			t.Cleanup(func() { h.Close() })
			send := via.start(t, h)
			serve := func(method, path string, header ...string) (http.Header, []byte) {
				hdr := http.Header{}
				for i := 0; i+1 < len(header); i += 2 {
					hdr.Set(header[i], header[i+1])
				}
				return send(t, h, method, path, hdr)
			}
			serve("GET", "/feed.atom") // before the first Update: 503
			if err := h.Update(ptrs(numbered(60))); err != nil {
				t.Fatal(err)
			}
			gzHeader, _ := serve("GET", "/feed.atom", "Accept-Encoding", "gzip")
			etag := gzHeader.Get("ETag")
			serve("HEAD", "/feed.atom", "Accept-Encoding", "gzip, deflate, br", "If-None-Match", etag)
			serve("GET", "/feed.atom", "Accept-Encoding", "gzip", "If-None-Match", `"other", `+etag)
			serve("GET", "/feed.atom", "Range", "bytes=0-9")
			serve("GET", "/feed.atom", "If-Match", `"other"`)
			serve("GET", "/feed.atom", "Range", "bytes=999999999-")
			serve("POST", "/feed.atom")
			serve("GET", "/"+StylesheetName)
			serve("GET", "/")
			serve("GET", "/archive/1.atom")
			serve("GET", "/archive/999")
			serve("GET", "/articles/none")

			_, body := serve("GET", "/metrics")
			want := map[string]string{
				`{code="503",route="GET /feed.atom"}`:          "1",
				`{code="200",route="GET /feed.atom"}`:          "1",
				`{code="304",route="GET /feed.atom"}`:          "2",
				`{code="206",route="GET /feed.atom"}`:          "1",
				`{code="412",route="GET /feed.atom"}`:          "1",
				`{code="416",route="GET /feed.atom"}`:          "1",
				`{code="405",route="unmatched"}`:               "1",
				`{code="200",route="GET /feed.xsl"}`:           "1",
				`{code="200",route="GET /{$}"}`:                "1",
				`{code="200",route="GET /archive/{file}"}`:     "1",
				`{code="404",route="GET /archive/{file}"}`:     "1",
				`{code="404",route="GET /articles/{slug...}"}`: "1",
			}
			got := map[string]string{}
			for labels := range want {
				got[labels] = metricValue(body, "dropfeed_http_requests_total"+labels)
			}
			if !maps.Equal(got, want) {
				t.Errorf("request counts %v, want %v", got, want)
			}
			if n := strings.Count(string(body), "\ndropfeed_http_requests_total{"); n != len(want) {
				t.Errorf("%d request series, want %d:\n%s", n, len(want), body)
			}
		})
	}
}

func TestAcceptsGzipMatchesParser(t *testing.T) {
	// Every value acceptsGzip answers without parsing, and some it parses.
	for _, v := range []string{
		"gzip", "gzip, deflate", "gzip, deflate, br", "gzip, deflate, br, zstd", "gzip,deflate",
		"deflate, gzip", "br, gzip", "gzip, br", "deflate, gzip, br, zstd",
		"", "identity", "br", "deflate", "deflate, br",
		"gzip;q=0", "GZIP", "x-gzip", "*", "br, *;q=0", "gzip, deflate;q=0.5",
	} {
		if got, want := acceptsGzip([]string{v}), parseAcceptsGzip([]string{v}); got != want {
			t.Errorf("acceptsGzip(%q) = %v, the parser says %v", v, got, want)
		}
	}
}
