// Command dropfeed-bench measures dropfeed against its peers on a synthetic
// corpus: start-up time and memory, drop-to-feed latency, CPU per change,
// and feed serving beside nginx; with --hugo, `hugo server` on the same
// articles. It prints a table and can write the results as JSON.
//
//	go run ./cmd/dropfeed-bench                      # the full run (BENCHMARKS.md)
//	go run ./cmd/dropfeed-bench --smoke              # a few seconds, for CI
//	go run ./cmd/dropfeed-bench --hugo /tmp/hugo --json bench.json
//
// It starts every server itself on 127.0.0.1 with free ports and stops them
// before it exits.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// config is every setting of a bench run.
type config struct {
	sizes        []int
	drops        int
	dropfeed     string
	dropfeedEnv  envList
	hugo         string
	hugoSizes    []int
	hugoDrops    int
	nginx        string
	serve        bool
	loadgen      string
	conns        int
	loadDuration time.Duration
	loadRounds   int
	poll         time.Duration
	readyTimeout time.Duration
	dropTimeout  time.Duration
	jsonPath     string
	work         string
	keep         bool
	smoke        bool
	seed         uint64
}

// intList is a flag value of comma-separated positive integers.
type intList []int

func (l *intList) String() string {
	s := make([]string, len(*l))
	for i, n := range *l {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

func (l *intList) Set(v string) error {
	var out []int
	for f := range strings.SplitSeq(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(strings.ReplaceAll(f, "_", "")))
		if err != nil || n < 1 {
			return fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, n)
	}
	*l = out
	return nil
}

// envList is a repeatable flag value of KEY=VALUE environment variables.
type envList []string

func (l *envList) String() string { return strings.Join(*l, " ") }

func (l *envList) Set(v string) error {
	if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
		return fmt.Errorf("%q is not KEY=VALUE", v)
	}
	*l = append(*l, v)
	return nil
}

func parseConfig(args []string, stderr io.Writer) (*config, error) {
	c := &config{sizes: []int{1000, 2000, 10000, 100000}}
	fs := flag.NewFlagSet("dropfeed-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var((*intList)(&c.sizes), "sizes", "corpus sizes (articles), comma-separated")
	fs.IntVar(&c.drops, "drops", 200, "articles dropped one at a time per size")
	fs.StringVar(&c.dropfeed, "dropfeed", "", "dropfeed binary (default: go build ./cmd/dropfeed into a temp folder)")
	fs.Var(&c.dropfeedEnv, "dropfeed-env", "KEY=VALUE added to dropfeed's environment, e.g. GOMEMLIMIT=260MiB (repeatable)")
	fs.StringVar(&c.hugo, "hugo", "", "hugo binary: also measure `hugo server` on the same corpus")
	var hugoSizes intList
	fs.Var(&hugoSizes, "hugo-sizes", "corpus sizes for Hugo (default: --sizes)")
	fs.IntVar(&c.hugoDrops, "hugo-drops", 30, "articles dropped per size into Hugo")
	fs.BoolVar(&c.serve, "serve", true, "measure serving (at the first size)")
	fs.StringVar(&c.nginx, "nginx", "nginx", `nginx binary to compare serving with; "" to skip`)
	fs.StringVar(&c.loadgen, "loadgen", "auto", "load generator: wrk, go, or auto (wrk when on PATH)")
	fs.IntVar(&c.conns, "connections", 64, "connections of the serving load")
	fs.DurationVar(&c.loadDuration, "load-duration", 10*time.Second, "length of one load run")
	fs.IntVar(&c.loadRounds, "load-rounds", 6, "load runs per server and request kind (the median is reported; the servers take turns going first)")
	fs.DurationVar(&c.poll, "poll", 5*time.Millisecond, "interval between polls of /healthz and the feed")
	fs.DurationVar(&c.readyTimeout, "ready-timeout", 10*time.Minute, "longest wait for a server to be ready")
	fs.DurationVar(&c.dropTimeout, "drop-timeout", 60*time.Second, "longest wait for one dropped article to be served")
	fs.StringVar(&c.jsonPath, "json", "", "write the results as JSON to this file")
	fs.StringVar(&c.work, "work", "", "folder for corpora, binaries and logs (default: a new temp folder)")
	fs.BoolVar(&c.keep, "keep", false, "keep the work folder")
	fs.BoolVar(&c.smoke, "smoke", false, "quick check for CI: 200 articles, 10 drops, 1 s of built-in load, no nginx or Hugo")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the synthetic corpus")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	c.hugoSizes = hugoSizes
	if c.smoke {
		c.sizes, c.drops, c.hugo, c.nginx, c.loadgen = []int{200}, 10, "", "", "go"
		c.loadDuration, c.loadRounds, c.conns = time.Second, 1, 8
		c.readyTimeout, c.dropTimeout = time.Minute, 20*time.Second
	}
	if len(c.hugoSizes) == 0 {
		c.hugoSizes = c.sizes
	}
	switch {
	case c.drops < 1:
		return nil, errors.New("--drops: must be at least 1")
	case c.hugoDrops < 1:
		return nil, errors.New("--hugo-drops: must be at least 1")
	case c.conns < 1:
		return nil, errors.New("--connections: must be at least 1")
	case c.loadRounds < 1:
		return nil, errors.New("--load-rounds: must be at least 1")
	case c.poll <= 0:
		return nil, errors.New("--poll: must be positive")
	case c.loadgen != "auto" && c.loadgen != "wrk" && c.loadgen != "go":
		return nil, fmt.Errorf("--loadgen: %q; want wrk, go or auto", c.loadgen)
	}
	return c, nil
}

// report is the whole result of a run, as written to --json.
type report struct {
	Date      time.Time      `json:"date"`
	Commit    string         `json:"commit,omitempty"`
	GoVersion string         `json:"go_version"`
	Machine   machine        `json:"machine"`
	Command   string         `json:"command"`
	Smoke     bool           `json:"smoke"`
	Sizes     []sizeResult   `json:"sizes"`
	Serving   *servingResult `json:"serving,omitempty"`
	Hugo      []hugoResult   `json:"hugo,omitempty"`
	Targets   []target       `json:"targets"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseConfig(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "dropfeed-bench: %v\n", err)
		return 2
	}
	rep, err := bench(ctx, cfg, stderr)
	printReport(stdout, rep)
	if cfg.jsonPath != "" {
		if werr := writeJSON(cfg.jsonPath, rep); werr != nil {
			err = errors.Join(err, werr)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "dropfeed-bench: FAILED: %v\n", err)
		return 1
	}
	return 0
}

// bench runs every measurement the config asks for. The report holds what
// was measured even when an error stops the run.
func bench(ctx context.Context, cfg *config, progress io.Writer) (*report, error) {
	rep := &report{
		Date:      time.Now().UTC().Truncate(time.Second),
		GoVersion: runtime.Version(),
		Machine:   describeMachine(),
		Command:   strings.Join(os.Args, " "),
		Smoke:     cfg.smoke,
	}
	if wd, err := os.Getwd(); err == nil {
		rep.Commit = gitCommit(wd)
	}
	work := cfg.work
	if work == "" {
		var err error
		if work, err = os.MkdirTemp("", "dropfeed-bench-"); err != nil {
			return rep, err
		}
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return rep, err
	}
	if cfg.keep {
		fmt.Fprintf(progress, "work folder: %s\n", work)
	} else {
		defer os.RemoveAll(work)
	}
	if cfg.dropfeed == "" {
		fmt.Fprintln(progress, "building dropfeed…")
		bin, err := buildDropfeed(ctx, work)
		if err != nil {
			return rep, err
		}
		cfg.dropfeed = bin
	}
	gen, err := pickLoadGen(cfg)
	if err != nil {
		return rep, err
	}
	if cfg.nginx != "" {
		if p, err := exec.LookPath(cfg.nginx); err == nil {
			cfg.nginx = p
		} else {
			fmt.Fprintf(progress, "nginx not found (%v): serving is measured without it\n", err)
			cfg.nginx = ""
		}
	}

	for i, n := range cfg.sizes {
		fmt.Fprintf(progress, "dropfeed: %d articles…\n", n)
		if err := measureSize(ctx, cfg, gen, work, n, cfg.serve && i == 0, rep, progress); err != nil {
			return rep, err
		}
	}
	if cfg.hugo != "" {
		for _, n := range cfg.hugoSizes {
			fmt.Fprintf(progress, "hugo: %d articles…\n", n)
			h, err := hugoRun(ctx, cfg, work, n)
			if err != nil {
				return rep, err
			}
			rep.Hugo = append(rep.Hugo, h)
		}
	}
	rep.Targets = evaluate(rep)
	return rep, nil
}

// measureSize measures dropfeed on a corpus of n articles, and serving
// beside nginx too when serve is true, adding the results to rep.
func measureSize(ctx context.Context, cfg *config, gen loadGen, work string, n int, serve bool, rep *report, progress io.Writer) error {
	dir := filepath.Join(work, fmt.Sprintf("corpus-%d", n))
	if !cfg.keep {
		// Removed only once every server reading it has stopped.
		defer os.RemoveAll(dir)
	}
	res, srv, err := dropfeedRun(ctx, cfg, work, dir, n, serve)
	if err != nil {
		return err
	}
	rep.Sizes = append(rep.Sizes, res)
	if srv == nil {
		return nil
	}
	defer srv.stop()
	fmt.Fprintf(progress, "serving: %s, %d connections, %d × %s per case…\n", gen.name(), cfg.conns, cfg.loadRounds, cfg.loadDuration)
	s, err := measureServing(ctx, cfg, gen, work, srv, n)
	if err != nil {
		return fmt.Errorf("serving: %w", err)
	}
	rep.Serving = &s
	return nil
}

func pickLoadGen(cfg *config) (loadGen, error) {
	threads := max(1, runtime.NumCPU())
	switch cfg.loadgen {
	case "go":
		return goGen{}, nil
	case "wrk":
		p, err := exec.LookPath("wrk")
		if err != nil {
			return nil, fmt.Errorf("--loadgen wrk: %w", err)
		}
		return wrkGen{path: p, threads: threads}, nil
	}
	if p, err := exec.LookPath("wrk"); err == nil {
		return wrkGen{path: p, threads: threads}, nil
	}
	return goGen{}, nil
}

func writeJSON(path string, rep *report) error {
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}
