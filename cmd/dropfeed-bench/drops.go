package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// dropResult is what dropping articles into a running server showed.
type dropResult struct {
	Drops int `json:"drops"`
	// Latency from the rename into the folder to the feed served with the item.
	P50 time.Duration `json:"p50_ns"`
	P99 time.Duration `json:"p99_ns"`
	Max time.Duration `json:"max_ns"`
	// CPU the server used per dropped article, the polls' own cost taken out.
	CPUPerChange time.Duration `json:"cpu_per_change_ns"`
	// CPU the server used per poll on an idle feed, measured first.
	CPUPerPoll time.Duration `json:"cpu_per_poll_ns"`
	Polls      int           `json:"polls"`
	PeakRSS    int64         `json:"peak_rss_bytes"`

	latencies []time.Duration
}

// dropPlan says where and how articles are dropped and looked for.
type dropPlan struct {
	srv      *server
	feedPath string // polled path, e.g. feed.atom
	dir      string // folder the files are renamed into
	stage    string // folder the files are first written to; "" means dir, under a hidden name
	drops    int
	interval time.Duration // between polls
	timeout  time.Duration // for one drop to appear
	make     func(i int) corpusFile
}

// idlePolls is how many polls of an unchanged feed measure a poll's CPU cost.
const idlePolls = 1000

// measureDrops drops plan.drops articles one at a time, each once the
// previous one is served, and measures the latency and the server's CPU.
func measureDrops(ctx context.Context, plan dropPlan) (dropResult, error) {
	res := dropResult{Drops: plan.drops}
	p := &poller{client: newClient(), url: plan.srv.base + plan.feedPath}
	pid := plan.srv.pid()

	// What polling alone costs the server, so it can be taken out below.
	if _, err := p.contains(ctx, ""); err != nil {
		return res, err
	}
	c0, err := cpuTime(pid)
	if err != nil {
		return res, err
	}
	for range idlePolls {
		if _, err := p.contains(ctx, ""); err != nil {
			return res, err
		}
	}
	c1, err := cpuTime(pid)
	if err != nil {
		return res, err
	}
	res.CPUPerPoll = (c1 - c0) / idlePolls
	p.polls = 0

	start, err := cpuTime(pid)
	if err != nil {
		return res, err
	}
	for i := range plan.drops {
		f := plan.make(i)
		var at time.Time
		if plan.stage != "" {
			at, err = stageAndMove(plan.stage, plan.dir, f)
		} else {
			at, err = dropFile(plan.dir, f)
		}
		if err != nil {
			return res, err
		}
		lat, err := p.waitFor(ctx, f.Title, at, plan.interval, plan.timeout)
		if err != nil {
			return res, fmt.Errorf("drop %d of %d (%s): %w", i+1, plan.drops, f.Name, err)
		}
		res.latencies = append(res.latencies, lat)
	}
	end, err := cpuTime(pid)
	if err != nil {
		return res, err
	}
	res.Polls = p.polls
	res.CPUPerChange = max(0, end-start-time.Duration(p.polls)*res.CPUPerPoll) / time.Duration(plan.drops)
	res.P50 = percentile(res.latencies, 50)
	res.P99 = percentile(res.latencies, 99)
	res.Max = percentile(res.latencies, 100)
	if res.PeakRSS, err = peakRSS(pid); err != nil {
		return res, err
	}
	return res, nil
}

// stageAndMove writes f into stage, then renames it into dir (both on one
// file system), for servers that would read a hidden temporary name too.
func stageAndMove(stage, dir string, f corpusFile) (time.Time, error) {
	tmp := filepath.Join(stage, filepath.Base(f.Name))
	if err := os.WriteFile(tmp, f.Data, 0o644); err != nil {
		return time.Time{}, fmt.Errorf("drop: %w", err)
	}
	t := time.Now()
	if err := os.Rename(tmp, filepath.Join(dir, filepath.FromSlash(f.Name))); err != nil {
		return time.Time{}, fmt.Errorf("drop: %w", err)
	}
	return t, nil
}
