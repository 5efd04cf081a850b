package content_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/dropfeed/dropfeed/content"
)

// When inotify's limits are reached, the Watcher says so once, naming the
// sysctl to raise, and polls instead of missing folders. The limits are
// real: the test runs itself again in a user namespace whose inotify
// limits it lowers, so the rest of the machine is not touched.
func TestWatcherFallsBackToPolling(t *testing.T) {
	cases := []struct {
		name   string
		limit  string // file under /proc/sys/user
		value  string
		sysctl string
		later  bool // hit the limit after start, not at Open
	}{
		{"watches at start", "max_inotify_watches", "1", "fs.inotify.max_user_watches", false},
		{"watches after start", "max_inotify_watches", "2", "fs.inotify.max_user_watches", true},
		{"instances", "max_inotify_instances", "0", "fs.inotify.max_user_instances", false},
	}
	if name := os.Getenv("DROPFEED_TEST_INOTIFY_CASE"); name != "" {
		for _, c := range cases {
			if c.name == name {
				fallBack(t, c.limit, c.value, c.sysctl, c.later)
				return
			}
		}
		t.Fatalf("no case %q", name)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // each case is a process of its own
			cmd := exec.Command(os.Args[0], "-test.run=^TestWatcherFallsBackToPolling$", "-test.v")
			cmd.Env = append(os.Environ(), "DROPFEED_TEST_INOTIFY_CASE="+c.name)
			cmd.SysProcAttr = &syscall.SysProcAttr{
				Cloneflags:  syscall.CLONE_NEWUSER,
				UidMappings: []syscall.SysProcIDMap{{ContainerID: os.Getuid(), HostID: os.Getuid(), Size: 1}},
				GidMappings: []syscall.SysProcIDMap{{ContainerID: os.Getgid(), HostID: os.Getgid(), Size: 1}},
			}
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				t.Skipf("cannot make a user namespace here: %v", err)
			}
			if err != nil || strings.Contains(string(out), "SKIP") {
				t.Errorf("in a user namespace: %v\n%s", err, out)
			}
		})
	}
}

// fallBack is TestWatcherFallsBackToPolling's body, in its user namespace.
func fallBack(t *testing.T, limit, value, sysctl string, later bool) {
	dir := t.TempDir()
	write(t, dir, "sub/first.md", md("First", "x"))
	if err := os.WriteFile("/proc/sys/user/"+limit, []byte(value), 0); err != nil {
		t.Fatalf("cannot lower the limit: %v", err)
	}
	lv := startLive(t, dir, &content.Watcher{})
	if later {
		write(t, dir, "later/second.md", md("Second", "x"))
	} else {
		write(t, dir, "sub/second.md", md("Second", "x"))
	}
	lv.until(t, "the new file, found by polling", func(got map[string]content.Article) bool { return len(got) == 2 })
	write(t, dir, "sub/third.md", md("Third", "x"))
	lv.until(t, "a later file, found by polling", has("sub/third.md"))
	if n := strings.Count(lv.log.String(), sysctl); n != 1 {
		t.Errorf("the log names %s %d times, want once:\n%s", sysctl, n, lv.log.String())
	}
	if !strings.Contains(lv.log.String(), "polling") {
		t.Errorf("the log does not say it polls:\n%s", lv.log.String())
	}
}
