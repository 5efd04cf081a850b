package feed

import (
	"bytes"
	"cmp"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
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

// BenchmarkServeFeed measures Handler.ServeHTTP for the two requests
// pollers make most: a gzip GET of the feed, and a conditional GET whose
// ETag still matches.
func BenchmarkServeFeed(b *testing.B) {
	h := NewHandler(testSite(b), Options{})
	b.Cleanup(func() { h.Close() })
	if err := h.Update(numbered(60)); err != nil {
		b.Fatal(err)
	}
	probe := httptest.NewRecorder()
	probe.Body = new(bytes.Buffer)
	h.ServeHTTP(probe, gzipGet("", ""))
	etag := probe.Header().Get("ETag")
	for _, bench := range []struct {
		name, inm string
		status    int
	}{
		{"gzip200", "", http.StatusOK},
		{"ifNoneMatch304", etag, http.StatusNotModified},
	} {
		b.Run(bench.name, func(b *testing.B) {
			b.ReportAllocs()
			r := gzipGet("If-None-Match", bench.inm)
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

// gzipGet is a GET of /feed.atom accepting gzip, with one more header
// when key is not empty.
func gzipGet(key, value string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/feed.atom", nil)
	r.Header.Set("Accept-Encoding", "gzip, deflate, br")
	if key != "" && value != "" {
		r.Header.Set(key, value)
	}
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
	h := NewHandler(testSite(t), Options{})
	t.Cleanup(func() { h.Close() })
	if err := h.Update(numbered(60)); err != nil {
		t.Fatal(err)
	}
	v := h.current.Load()
	atom, index := v.files["feed.atom"], v.files[""]
	p, _ := atom.payload()
	etag, gzETag := p.etag, p.gzETag
	lastMod := atom.modTime.UTC().Format(http.TimeFormat)
	before := atom.modTime.Add(-time.Hour).UTC().Format(http.TimeFormat)
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		for _, tt := range []struct {
			name   string
			header map[string]string
		}{
			{"plain", nil},
			{"gzip", map[string]string{"Accept-Encoding": "gzip"}},
			{"gzip refused", map[string]string{"Accept-Encoding": "gzip;q=0, identity"}},
			{"etag matches", map[string]string{"If-None-Match": etag}},
			{"gzip etag matches", map[string]string{"Accept-Encoding": "gzip", "If-None-Match": gzETag}},
			{"identity etag sent with gzip", map[string]string{"Accept-Encoding": "gzip", "If-None-Match": etag}},
			{"etag differs", map[string]string{"If-None-Match": `"other"`}},
			{"etag list", map[string]string{"If-None-Match": `"other", ` + etag}},
			{"etag star", map[string]string{"If-None-Match": "*"}},
			{"weak etag", map[string]string{"If-None-Match": "W/" + etag}},
			{"if-modified-since now", map[string]string{"If-Modified-Since": lastMod}},
			{"if-modified-since before", map[string]string{"If-Modified-Since": before}},
			{"both", map[string]string{"If-None-Match": etag, "If-Modified-Since": before}},
			{"if-match fails", map[string]string{"If-Match": `"other"`}},
			{"if-unmodified-since before", map[string]string{"If-Unmodified-Since": before}},
			{"range", map[string]string{"Range": "bytes=0-9"}},
			{"range with gzip", map[string]string{"Range": "bytes=0-9", "Accept-Encoding": "gzip"}},
			{"if-range", map[string]string{"Range": "bytes=0-9", "If-Range": etag}},
			{"bad range", map[string]string{"Range": "bytes=999999999-"}},
		} {
			for _, target := range []struct {
				path string
				res  *resource
			}{{"/feed.atom", atom}, {"/", index}} {
				t.Run(method+" "+target.path+" "+tt.name, func(t *testing.T) {
					request := func() *http.Request {
						r := httptest.NewRequest(method, target.path, nil)
						for k, v := range tt.header {
							r.Header.Set(k, v)
						}
						return r
					}
					got, want := httptest.NewRecorder(), httptest.NewRecorder()
					h.ServeHTTP(got, request())
					serveWithServeContent(h, want, request(), target.res)
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
