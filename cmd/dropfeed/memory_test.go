package main

import (
	"context"
	"io"
	"log/slog"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// limitRecorder is a memoryLimiter that records what it is told.
type limitRecorder struct {
	mu    sync.Mutex
	limit int64
	sets  []int64 // every limit set, in order; reads are not recorded
}

func newLimitRecorder() *limitRecorder { return &limitRecorder{limit: math.MaxInt64} }

func (r *limitRecorder) set(limit int64) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.limit
	if limit >= 0 {
		r.limit = limit
		r.sets = append(r.sets, limit)
	}
	return old
}

func (r *limitRecorder) record() (limit int64, sets []int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.limit, slices.Clone(r.sets)
}

func TestMemoryGovernorFollowsTheLiveHeap(t *testing.T) {
	const mib = 1 << 20
	rec := newLimitRecorder()
	var live uint64
	g := &memoryGovernor{set: rec.set, floor: 250 * mib, live: func() uint64 { return live }, log: slog.New(slog.DiscardHandler)}
	steps := []struct {
		live uint64
		want int64
	}{
		{0, 250 * mib},                      // nothing collected yet: the floor
		{150 * mib, 250 * mib},              // 100,000 articles: under the floor's reach
		{200 * mib, 300 * mib},              // the floor would leave less than half the live heap free
		{400 * mib, 600 * mib},              // and it keeps rising with the folder
		{100 * mib, 250 * mib},              // back to the floor when the folder shrinks
		{math.MaxUint64, math.MaxInt64 / 2}, // no overflow
	}
	for _, s := range steps {
		live = s.live
		g.adjust()
		if got, _ := rec.record(); got != s.want {
			t.Errorf("live heap %d MiB: limit %d MiB, want %d MiB", s.live/mib, got/mib, s.want/mib)
		}
	}
	_, sets := rec.record()
	g.adjust() // unchanged live heap: nothing to set
	if _, again := rec.record(); len(again) != len(sets) {
		t.Errorf("an unchanged live heap set the limit again: %d sets, then %d", len(sets), len(again))
	}
}

// TestServeSetsMemoryLimit runs the server with each way of choosing the
// limit, and checks what it set while it ran and that it put the limit
// it found back when it stopped.
func TestServeSetsMemoryLimit(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want int64 // 0: the server must not touch the limit
	}{
		{"default", nil, nil, defaultMemoryLimit},
		{"flag", []string{"--memory-limit", "300MB"}, nil, 300 * mib},
		{"variable", nil, map[string]string{"DROPFEED_MEMORY_LIMIT": "200MB"}, 200 * mib},
		{"off", []string{"--memory-limit", "0"}, nil, 0},
		{"GOMEMLIMIT wins", []string{"--memory-limit", "300MB"}, map[string]string{"GOMEMLIMIT": "1GiB"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "post.md"), "---\ntitle: Post\n---\n\nx\n")
			rec := newLimitRecorder()
			ctx, cancel := context.WithCancel(t.Context())
			stderr := &syncBuffer{}
			args := append([]string{"--dir", dir, "--state", filepath.Join(t.TempDir(), "state.db"), "--addr", "127.0.0.1:0"}, tt.args...)
			done := make(chan error, 1)
			go func() {
				done <- serve(ctx, args, func(k string) string { return tt.env[k] }, stderr, nil, rec.set)
			}()
			eventually(t, "ready", func() bool { return strings.Contains(stderr.String(), "msg=ready") })
			running, _ := rec.record()
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("serve: %v\n%s", err, stderr)
			}
			after, sets := rec.record()
			if tt.want == 0 {
				if len(sets) != 0 {
					t.Errorf("limits set %v, want none", sets)
				}
				return
			}
			// A test process's live heap is far below half of any of these.
			if running != tt.want {
				t.Errorf("limit while serving %d MiB, want %d MiB", running/mib, tt.want/mib)
			}
			if after != math.MaxInt64 {
				t.Errorf("limit after serving %d, want the one found (%d)", after, int64(math.MaxInt64))
			}
			if !strings.Contains(stderr.String(), "soft memory limit") {
				t.Errorf("the limit is not logged:\n%s", stderr)
			}
		})
	}
}

// TestBuildSetsMemoryLimit runs a build, which reads the whole folder as
// serve does, and checks it set the limit and put back the one it found.
func TestBuildSetsMemoryLimit(t *testing.T) {
	const mib = 1 << 20
	for _, tt := range []struct {
		args []string
		want []int64
	}{
		{nil, []int64{defaultMemoryLimit, math.MaxInt64}},
		{[]string{"--memory-limit", "300MB"}, []int64{300 * mib, math.MaxInt64}},
		{[]string{"--memory-limit", "0"}, nil},
	} {
		rec := newLimitRecorder()
		args := append([]string{"--dir", buildSite(t), "--out", filepath.Join(t.TempDir(), "public")},
			siteFlags(filepath.Join(t.TempDir(), "state.db"))...)
		if err := build(t.Context(), append(args, tt.args...), func(string) string { return "" }, io.Discard, rec.set); err != nil {
			t.Fatalf("build %q: %v", tt.args, err)
		}
		if _, sets := rec.record(); !slices.Equal(sets, tt.want) {
			t.Errorf("build %q set the limits %v, want %v", tt.args, sets, tt.want)
		}
	}
}
