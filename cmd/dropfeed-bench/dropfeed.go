package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// dropfeedPkg is the package built when no --dropfeed binary is given.
const dropfeedPkg = "github.com/dropfeed/dropfeed/cmd/dropfeed"

// buildDropfeed builds dropfeed into dir with the go command on PATH; it
// must run inside the module.
func buildDropfeed(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "dropfeed")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, dropfeedPkg)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build %s (run the bench inside the dropfeed module, or pass --dropfeed): %w", dropfeedPkg, err)
	}
	return bin, nil
}

// sizeResult is everything measured of dropfeed with one corpus size.
type sizeResult struct {
	Articles    int   `json:"articles"`
	CorpusBytes int64 `json:"corpus_bytes"`
	// From process start to /healthz 200 (all feeds rendered), with no
	// state file (first start) and with the state the first start left.
	Start   time.Duration `json:"start_ns"`
	Restart time.Duration `json:"restart_ns"`
	// The least a first start must do, timed just before it (readAll).
	ReadAll      readResult `json:"read_all"`
	StartRSS     int64      `json:"start_peak_rss_bytes"`
	RestartRSS   int64      `json:"restart_peak_rss_bytes"`
	Drop         dropResult `json:"drop"`
	DropfeedLogs string     `json:"log_file,omitempty"`
}

// dropfeedRun runs the dropfeed measurements for one corpus size in dir.
// When keep is true the server is left running for the serving measurement
// and returned; the caller stops it, then removes dir.
func dropfeedRun(ctx context.Context, cfg *config, work, dir string, n int, keep bool) (sizeResult, *server, error) {
	res := sizeResult{Articles: n}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, nil, err
	}
	var err error
	if res.CorpusBytes, err = writeCorpus(dir, n, cfg.seed); err != nil {
		return res, nil, err
	}
	flushWrites()
	if res.ReadAll, err = readAll(ctx, dir); err != nil {
		return res, nil, err
	}
	client := newClient()

	start := func(tag string) (*server, time.Duration, int64, error) {
		addr, err := freeAddr()
		if err != nil {
			return nil, 0, 0, err
		}
		base := "http://" + addr + "/"
		logPath := filepath.Join(work, fmt.Sprintf("dropfeed-%d-%s.log", n, tag))
		srv, err := startServer(ctx, "dropfeed", base, logPath, []string{
			cfg.dropfeed, "serve", "--dir", dir, "--addr", addr, "--base-url", base, "--title", "dropfeed bench",
		}, work, cfg.dropfeedEnv)
		if err != nil {
			return nil, 0, 0, err
		}
		took, err := srv.waitOK(ctx, client, "healthz", cfg.poll, cfg.readyTimeout)
		if err != nil {
			srv.stop()
			return nil, 0, 0, err
		}
		rss, err := peakRSS(srv.pid())
		if err != nil {
			srv.stop()
			return nil, 0, 0, err
		}
		return srv, took, rss, nil
	}

	srv, took, rss, err := start("first")
	if err != nil {
		return res, nil, fmt.Errorf("N=%d first start: %w", n, err)
	}
	res.Start, res.StartRSS = took, rss
	if err := srv.stop(); err != nil {
		return res, nil, err
	}
	if srv, took, rss, err = start("restart"); err != nil {
		return res, nil, fmt.Errorf("N=%d restart: %w", n, err)
	}
	res.Restart, res.RestartRSS = took, rss
	res.DropfeedLogs = srv.logPath

	g := newGenerator(cfg.seed ^ uint64(n))
	nonce := fmt.Sprintf("d%x", time.Now().UnixNano()&0xffffff)
	res.Drop, err = measureDrops(ctx, dropPlan{
		srv:      srv,
		feedPath: "feed.atom",
		dir:      dir,
		drops:    cfg.drops,
		interval: cfg.poll,
		timeout:  cfg.dropTimeout,
		make: func(i int) corpusFile {
			f, _ := dropArticle(g, i, nonce)
			return f
		},
	})
	if err != nil {
		srv.stop()
		return res, nil, fmt.Errorf("N=%d drops: %w\nserver log:\n%s", n, err, srv.logTail(10))
	}
	if keep {
		return res, srv, nil
	}
	return res, nil, srv.stop()
}
