// Command dropfeed publishes a folder of articles as Atom, RSS and JSON feeds.
//
//	dropfeed serve --dir DIR [flags]   serve the feeds, updating them as files change
//	dropfeed build --dir DIR --out OUT [--watch] [flags]
//	                                   write what serve serves as static files
//	dropfeed check [--json] FILE...    show what dropfeed reads from each file
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

const usage = `dropfeed publishes a folder of articles as Atom, RSS and JSON feeds.

Usage:
  dropfeed serve --dir DIR [flags]    serve the feeds over HTTP, updating them as files change
  dropfeed build --dir DIR --out OUT [--watch] [flags]
                                      write what serve serves as static files, for any static host
  dropfeed check [--json] FILE...     show what dropfeed reads from each file

Run "dropfeed serve -h", "dropfeed build -h" or "dropfeed check -h" for the flags. Every
serve and build flag can also be set with an environment variable DROPFEED_<NAME>, e.g.
DROPFEED_BASE_URL, or in a TOML or YAML file given with --config (keys named like the
flags: base-url or base_url). A flag wins over its variable, which wins over the file.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, debug.SetMemoryLimit)
	stop()
	os.Exit(code)
}

// run is main without the process around it, so tests can call it. mem
// sets the process's soft memory limit; nil leaves it alone.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, mem memoryLimiter) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], getenv, stderr, nil, mem)
	case "build":
		err = build(ctx, args[1:], getenv, stderr, mem)
	case "check":
		var bad bool
		bad, err = check(args[1:], getenv, stdout, stderr)
		if err == nil && bad {
			return 1
		}
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "dropfeed: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "dropfeed %s: %v\n", args[0], err)
		return 1
	}
	return 0
}
