package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dropfeed/dropfeed/content"
)

// The corpus must read back as generated: each title found by dropfeed's
// own parsers, Markdown dated by front matter, text dated by file name.
func TestCorpusReadsBack(t *testing.T) {
	g := newGenerator(7)
	var md, txt int
	for i := range 40 {
		f, a := corpusArticle(g, i)
		p, err := content.Parse(f.Name, f.Data)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if p.Title != f.Title {
			t.Errorf("%s: title %q, want %q", f.Name, p.Title, f.Title)
		}
		if n := len(f.Data); n < minArticleBytes || n > maxArticleBytes+2<<10 {
			t.Errorf("%s: %d bytes, want about %d to %d", f.Name, n, minArticleBytes, maxArticleBytes)
		}
		published := content.PublishedDate(f.Name, p, time.Time{})
		want := a.Date
		if strings.HasSuffix(f.Name, ".txt") {
			txt++
			want = a.Date.Truncate(24 * time.Hour) // the file name carries the day only
		} else {
			md++
		}
		if !published.Equal(want) {
			t.Errorf("%s: published %v, want %v", f.Name, published, want)
		}
	}
	if md == 0 || txt == 0 {
		t.Errorf("corpus has %d Markdown and %d text articles; want both", md, txt)
	}
}

// Dropped articles carry no date, so dropfeed dates them at first sight,
// and titles differ between runs through the nonce.
func TestDropArticlesUndatedAndUnique(t *testing.T) {
	g := newGenerator(7)
	seen := map[string]bool{}
	for i := range 6 {
		for _, nonce := range []string{"da", "db"} {
			f, _ := dropArticle(g, i, nonce)
			p, err := content.Parse(f.Name, f.Data)
			if err != nil {
				t.Fatalf("%s: %v", f.Name, err)
			}
			if p.Title != f.Title || !strings.Contains(p.Title, nonce) {
				t.Errorf("%s: title %q, want %q with %q", f.Name, p.Title, f.Title, nonce)
			}
			if !p.Date.IsZero() {
				t.Errorf("%s: dated %v; drops must be undated", f.Name, p.Date)
			}
			if seen[f.Title] || seen[f.Name] {
				t.Errorf("%s: title or name repeated", f.Name)
			}
			seen[f.Title], seen[f.Name] = true, true
		}
	}
}

func TestWriteCorpus(t *testing.T) {
	dir := t.TempDir()
	total, err := writeCorpus(dir, 25, 1)
	if err != nil {
		t.Fatal(err)
	}
	var files int
	var size int64
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !content.IsArticleFile(d.Name()) {
			t.Errorf("%s is not an article file name", p)
		}
		fi, err := d.Info()
		files++
		size += fi.Size()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if files != 25 || size != total {
		t.Errorf("wrote %d files, %d bytes; reported %d bytes, want 25 files", files, size, total)
	}
}

func TestHugoSite(t *testing.T) {
	dir := t.TempDir()
	if err := writeHugoSite(dir, 12, 1); err != nil {
		t.Fatal(err)
	}
	for name := range hugoSite {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "content", "*", "*", "*"))
	if len(pages) != 12 {
		t.Fatalf("%d content files, want 12", len(pages))
	}
	for _, p := range pages {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Ext(p) != ".md" || !strings.HasPrefix(string(data), "---\ntitle: ") || !strings.Contains(string(data), "\ndate: ") {
			t.Errorf("%s: not dated Markdown with front matter", p)
		}
	}
}

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name, stat string
		want       time.Duration
		bad        bool
	}{
		{"plain", "4242 (dropfeed) S 1 4242 4242 0 -1 4194560 1021 0 0 0 150 25 0 0 20 0 8 0 3030 0 0", 1750 * time.Millisecond, false},
		{"spaces and parens in name", "17 (a (b) c) R 1 17 17 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 1 0 0", 70 * time.Millisecond, false},
		{"truncated", "17 (x) R 1 2 3", 0, true},
		{"no name", "17 x R", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatCPU([]byte(tt.stat))
			if (err != nil) != tt.bad || got != tt.want {
				t.Errorf("got %v, %v; want %v, error %v", got, err, tt.want, tt.bad)
			}
		})
	}
}

func TestParseStatusKB(t *testing.T) {
	status := "Name:\tdropfeed\nVmPeak:\t  900000 kB\nVmHWM:\t   51234 kB\nVmRSS:\t   40000 kB\n"
	if got, err := parseStatusKB([]byte(status), "VmHWM"); err != nil || got != 51234<<10 {
		t.Errorf("VmHWM: %d, %v; want %d", got, err, 51234<<10)
	}
	if _, err := parseStatusKB([]byte(status), "VmSwap"); err == nil {
		t.Error("a missing key gave no error")
	}
	// The bench's own process has a VmHWM: the real file parses.
	if n, err := peakRSS(os.Getpid()); err != nil || n <= 0 {
		t.Errorf("peakRSS(self) = %d, %v", n, err)
	}
	if _, err := cpuTime(os.Getpid()); err != nil {
		t.Errorf("cpuTime(self): %v", err)
	}
}

func TestPercentile(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	tests := []struct {
		p    float64
		want time.Duration
	}{{50, 5}, {99, 10}, {100, 10}, {10, 1}, {0, 1}, {91, 10}, {90, 9}}
	for _, tt := range tests {
		if got := percentile(ds, tt.p); got != tt.want {
			t.Errorf("p%v = %v, want %v", tt.p, got, tt.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("p50 of none = %v, want 0", got)
	}
}

func TestParseWrk(t *testing.T) {
	out := `Running 10s test @ http://127.0.0.1:8080/feed.atom
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.10ms    1.20ms  30.00ms   80.00%
    Req/Sec    10.40k     1.10k   13.00k    70.00%
  207123 requests in 10.00s, 17.37GB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  20712.30
Transfer/sec:      1.74GB
`
	got, err := parseWrk(out)
	if err != nil || got.RPS != 20712.30 || got.Errors != 7 {
		t.Errorf("parseWrk = %+v, %v; want 20712.30 rps, 7 errors", got, err)
	}
	if _, err := parseWrk("wrk: connection refused"); err == nil {
		t.Error("output without Requests/sec gave no error")
	}
}

func TestIntList(t *testing.T) {
	var l intList
	if err := l.Set("1000, 10_000,100000"); err != nil || l.String() != "1000,10000,100000" {
		t.Errorf("Set = %v, %v", l, err)
	}
	for _, bad := range []string{"", "1,,2", "0", "-5", "ten"} {
		if err := l.Set(bad); err == nil {
			t.Errorf("Set(%q) gave no error", bad)
		}
	}
}

// --dropfeed-env takes KEY=VALUE pairs, and the server started with them
// has them in its environment.
func TestDropfeedEnv(t *testing.T) {
	cfg, err := parseConfig([]string{"--dropfeed-env", "GOMEMLIMIT=260MiB", "--dropfeed-env", "BENCH_PROBE=a=b"}, io.Discard)
	if err != nil || !slices.Equal(cfg.dropfeedEnv, envList{"GOMEMLIMIT=260MiB", "BENCH_PROBE=a=b"}) {
		t.Fatalf("parseConfig: %v, %v", cfg, err)
	}
	for _, bad := range []string{"GOMEMLIMIT", "=1"} {
		if _, err := parseConfig([]string{"--dropfeed-env", bad}, io.Discard); err == nil {
			t.Errorf("--dropfeed-env %q gave no error", bad)
		}
	}
	dir := t.TempDir()
	logPath := filepath.Join(dir, "probe.log")
	srv, err := startServer(t.Context(), "probe", "", logPath, []string{"/bin/sh", "-c", `printf %s "$BENCH_PROBE"`}, dir, cfg.dropfeedEnv)
	if err != nil {
		t.Fatal(err)
	}
	<-srv.exited
	if got, err := os.ReadFile(logPath); err != nil || string(got) != "a=b" {
		t.Errorf("the server saw BENCH_PROBE=%q (%v), want %q", got, err, "a=b")
	}
}

// The poller sends the last ETag back and keeps the last body it got.
func TestPollerConditional(t *testing.T) {
	var body atomic.Value
	body.Store("<feed><title>one</title></feed>")
	var conditional atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") != "" {
			conditional.Add(1)
		}
		b := body.Load().(string)
		w.Header().Set("ETag", fmt.Sprintf("%q", b))
		http.ServeContent(w, r, "", time.Time{}, strings.NewReader(b))
	}))
	defer srv.Close()
	p := &poller{client: srv.Client(), url: srv.URL}
	ctx := context.Background()
	for i, want := range []bool{true, true} {
		if ok, err := p.contains(ctx, "<title>one<"); err != nil || ok != want {
			t.Fatalf("poll %d: %v, %v", i, ok, err)
		}
	}
	body.Store("<feed><title>two</title></feed>")
	if _, err := p.waitFor(ctx, "<title>two<", time.Now(), time.Millisecond, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if n := conditional.Load(); n != 2 || p.polls != 3 {
		t.Errorf("%d conditional of %d polls, want 2 of 3", n, p.polls)
	}
	if _, err := p.waitFor(ctx, "<title>three<", time.Now(), time.Millisecond, 20*time.Millisecond); err == nil {
		t.Error("waitFor for a title that never comes gave no error")
	}
}

func TestDropFileIsAtomic(t *testing.T) {
	dir := t.TempDir()
	f := corpusFile{Name: "drop-x-0001.md", Data: []byte("---\ntitle: x\n---\nbody\n")}
	if _, err := dropFile(dir, f); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != f.Name {
		t.Fatalf("folder holds %v, want only %s", entries, f.Name)
	}
}

// TestServingTargetPrintsAsJudged checks that a serving ratio just under
// the target prints under it, in the targets and in the serving table, as
// it is judged: run FE's 0.8985 printed as 0.90x beside MISSED.
func TestServingTargetPrintsAsJudged(t *testing.T) {
	tests := []struct {
		ratio float64
		want  string
		met   bool
	}{
		{0.8985, "0.89x", false},
		{0.8999999, "0.89x", false},
		{0.9, "0.90x", true},
		{0.9049, "0.90x", true},
		{1.04, "1.04x", true},
	}
	for _, tt := range tests {
		rep := &report{Serving: &servingResult{Cases: []servingCase{
			{Name: "feed.atom gzip 200", Dropfeed: 1000 * tt.ratio, Nginx: 1000, Ratio: tt.ratio},
		}}}
		ts := evaluate(rep)
		if len(ts) != 1 || ts[0].Value != tt.want || ts[0].Met != tt.met {
			t.Errorf("ratio %v: targets %+v; want value %s, met %v", tt.ratio, ts, tt.want, tt.met)
		}
		var out strings.Builder
		printReport(&out, rep)
		row := ""
		for line := range strings.Lines(out.String()) {
			if strings.Contains(line, "gzip 200") && !strings.Contains(line, ">=") {
				row = strings.TrimSpace(line)
			}
		}
		if !strings.HasSuffix(row, " "+tt.want) {
			t.Errorf("ratio %v: the serving table's row %q; want it to end in %s", tt.ratio, row, tt.want)
		}
	}
}

// TestReadAll checks the bench's yardstick for a first start: every file
// dropfeed would read, and only those, read whole.
func TestReadAll(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a.md":                  "# A\n\nBody.\n",
		"news/2025-01-02-b.txt": strings.Repeat("Harbour news.\n", 100),
		"news/deep/c.html":      "<h1>C</h1>",
		".hidden.md":            "not read",
		".dropfeed/state.db":    "not read either",
		"news/.tmp-d.md":        "a drop being written",
		"news/photo.jpg":        "not an article",
		"news/b.md~":            "an editor's backup",
	}
	var want int64
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if content.IsArticleFile(name) && !strings.Contains(name, "/.") {
			want += int64(len(text))
		}
	}
	got, err := readAll(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Files != 3 || got.Bytes != want || got.Took <= 0 {
		t.Errorf("readAll = %+v; want 3 files, %d bytes, a time", got, want)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := readAll(ctx, dir); !errors.Is(err, context.Canceled) {
		t.Errorf("readAll cancelled: %v", err)
	}
	if _, err := readAll(context.Background(), filepath.Join(dir, "gone")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("readAll of a missing folder: %v", err)
	}
}

// TestStartTargetNamesReadAll checks that the first-start target shows the
// time of reading the files alone beside the start's, when it was timed.
func TestStartTargetNamesReadAll(t *testing.T) {
	for _, tt := range []struct {
		read time.Duration
		want string
	}{
		{2600 * time.Millisecond, "8.49 s (reading the files alone: 2.60 s)"},
		{0, "8.49 s"},
	} {
		rep := &report{Sizes: []sizeResult{{Articles: 100000, Start: 8490 * time.Millisecond, ReadAll: readResult{Took: tt.read}}}}
		if got := evaluate(rep)[0]; got.Value != tt.want || got.Met {
			t.Errorf("read %v: target %+v; want value %q, missed", tt.read, got, tt.want)
		}
	}
}

// orderedGen is a load generator whose servers are equally fast but whose
// machine is faster for the first run of each round: a drift that hits
// whichever server is loaded first.
type orderedGen struct {
	calls []string // the URLs loaded, in order
}

func (g *orderedGen) name() string { return "ordered" }

func (g *orderedGen) run(_ context.Context, t loadTarget, _ int, _ time.Duration) (loadResult, error) {
	rps := 1000.0
	if len(g.calls)%2 == 0 {
		rps = 1100
	}
	g.calls = append(g.calls, t.url)
	return loadResult{RPS: rps}, nil
}

// TestRunRoundsTakesTurns checks that the servers take turns going first,
// so that a machine faster for the first run of a round favours neither:
// with dropfeed always first, as before, it measured 1.10x here.
func TestRunRoundsTakesTurns(t *testing.T) {
	sides := []side{
		{"dropfeed", []loadTarget{{url: "df"}}},
		{"nginx", []loadTarget{{url: "ng"}}},
	}
	cases := []servingCase{{Name: "feed.atom gzip 200"}}
	gen := &orderedGen{}
	if err := runRounds(t.Context(), gen, 1, time.Second, 4, sides, cases, nil); err != nil {
		t.Fatal(err)
	}
	if want := []string{"df", "ng", "ng", "df", "df", "ng", "ng", "df"}; !slices.Equal(gen.calls, want) {
		t.Errorf("load order %v, want %v", gen.calls, want)
	}
	c := cases[0]
	if c.Ratio != 1 || c.Dropfeed != 1050 || c.Nginx != 1050 {
		t.Errorf("dropfeed %v, nginx %v, ratio %v; want 1050, 1050 and 1", c.Dropfeed, c.Nginx, c.Ratio)
	}
	want := []float64{1.1, 1 / 1.1, 1.1, 1 / 1.1}
	if len(c.RoundRatios) != len(want) {
		t.Fatalf("round ratios %v, want %v", c.RoundRatios, want)
	}
	for i := range want {
		if math.Abs(c.RoundRatios[i]-want[i]) > 1e-9 {
			t.Errorf("round ratios %v, want %v", c.RoundRatios, want)
			break
		}
	}

	// One side alone (no nginx): a run a round, no ratios.
	alone := []servingCase{{Name: "feed.atom gzip 200"}}
	if err := runRounds(t.Context(), &orderedGen{}, 1, time.Second, 3, sides[:1], alone, nil); err != nil {
		t.Fatal(err)
	}
	if len(alone[0].DropfeedRaw) != 3 || alone[0].NginxRaw != nil || alone[0].RoundRatios != nil || alone[0].Ratio != 0 {
		t.Errorf("dropfeed alone: %+v", alone[0])
	}
}
