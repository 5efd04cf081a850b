package main

import (
	"context"
	"log/slog"
	"math"
	"runtime/metrics"
	"time"
)

// defaultMemoryLimit is --memory-limit's default. At 100,000 articles the
// live heap after a restart is some 150 MB; the collector's default pacing
// (GOGC=100) lets the heap grow to twice that between collections, 400 MB of
// RSS. Under this limit every phase stays under 300 MB there (BENCHMARKS.md)
// for some 14% more CPU a change (66 against 58 ms), and a folder of 10,000
// articles (under 100 MB) never reaches it.
const defaultMemoryLimit = 250 << 20

// liveHeadroom is how far above the live heap the limit stays, whatever
// --memory-limit says: a fixed limit that the live heap itself nears makes
// the collector run without pause, and here it runs at least half the live
// heap apart, never more than twice as often as by default.
const liveHeadroom = 1.5

// memoryLimiter sets the Go runtime's soft memory limit, as
// runtime/debug.SetMemoryLimit does, returning the one it replaces (a
// negative limit only reads it).
type memoryLimiter func(limit int64) int64

// memoryGovernor keeps the runtime's soft memory limit at the larger of
// floor and liveHeadroom times the live heap, as the folder grows or
// shrinks.
type memoryGovernor struct {
	set   memoryLimiter
	floor int64
	live  func() uint64 // the heap the last collection found live, in bytes
	log   *slog.Logger
	limit int64 // the limit set last
}

// limitMemory starts a memoryGovernor for the settings and environment of
// a server, and returns the function that stops it and restores the limit
// it found. It does nothing when set is nil (the server is not the
// process), floor is 0 (--memory-limit 0), or GOMEMLIMIT is set: the
// runtime has applied that one, and it is the operator's to choose.
func limitMemory(ctx context.Context, set memoryLimiter, floor int64, getenv func(string) string, log *slog.Logger) (stop func()) {
	switch {
	case set == nil:
		return func() {}
	case getenv("GOMEMLIMIT") != "":
		log.Info("soft memory limit from GOMEMLIMIT", "limit", getenv("GOMEMLIMIT"))
		return func() {}
	case floor <= 0:
		log.Info("no soft memory limit (--memory-limit 0)")
		return func() {}
	}
	g := &memoryGovernor{set: set, floor: floor, live: liveHeap, log: log}
	before := set(-1)
	g.adjust()
	log.Info("soft memory limit", "limit_mb", g.limit>>20)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				g.adjust()
			}
		}
	}()
	return func() {
		cancel()
		<-done
		set(before)
	}
}

// adjust sets the limit for the live heap the last collection found.
func (g *memoryGovernor) adjust() {
	limit := g.floor
	switch want := liveHeadroom * float64(g.live()); {
	case want >= math.MaxInt64/2:
		limit = math.MaxInt64 / 2 // past any heap; int64 of a larger float is undefined
	case want > float64(limit):
		limit = int64(want)
	}
	if limit == g.limit {
		return
	}
	if g.limit != 0 && (limit > g.floor) != (g.limit > g.floor) {
		g.log.Info("soft memory limit", "limit_mb", limit>>20, "live_heap_mb", g.live()>>20)
	}
	g.limit = limit
	g.set(limit)
}

// liveHeap returns the heap the last collection found live, in bytes.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
