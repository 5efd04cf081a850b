package content_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dropfeed/dropfeed/content"
)

// watch runs a Watcher on dir and returns a function that waits until the
// batches seen so far name every wanted path.
func watch(t *testing.T, dir string) func(want ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	seen := map[string]bool{}
	changed := make(chan struct{}, 1)
	done := make(chan error, 1)
	started := make(chan struct{})
	w := &content.Watcher{Dir: dir, Quiet: 30 * time.Millisecond, MaxWait: 300 * time.Millisecond}
	go func() {
		close(started)
		done <- w.Run(ctx, func(_ context.Context, b content.Batch) {
			mu.Lock()
			for _, p := range b.Paths {
				seen[p] = true
			}
			mu.Unlock()
			select {
			case changed <- struct{}{}:
			default:
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	<-started
	time.Sleep(100 * time.Millisecond) // let Run add its watches before the test writes
	return func(want ...string) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			mu.Lock()
			missing := slices.DeleteFunc(slices.Clone(want), func(p string) bool { return seen[p] })
			mu.Unlock()
			if len(missing) == 0 {
				mu.Lock()
				clear(seen)
				mu.Unlock()
				return
			}
			select {
			case <-changed:
			case <-deadline:
				t.Fatalf("no batch named %v", missing)
			}
		}
	}
}

func TestWatcherReportsChanges(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "existing.md", md("Existing", "x"))
	wait := watch(t, dir)

	write(t, dir, "new.md", md("New", "x"))
	wait("new.md")

	// An editor's atomic save: write a temp file, rename it over the target.
	write(t, dir, ".existing.md.tmp", md("Existing", "edited"))
	if err := os.Rename(filepath.Join(dir, ".existing.md.tmp"), filepath.Join(dir, "existing.md")); err != nil {
		t.Fatal(err)
	}
	wait("existing.md")

	// A folder made after start, with a file written into it at once.
	write(t, dir, "later/deep/post.md", md("Deep", "x"))
	wait("later/deep/post.md")
	write(t, dir, "later/deep/second.md", md("Second", "x"))
	wait("later/deep/second.md")

	if err := os.Remove(filepath.Join(dir, "new.md")); err != nil {
		t.Fatal(err)
	}
	wait("new.md")
}
