// Command grove runs the Grove platform (grove serve).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "grove:", err)
		os.Exit(1)
	}
}

const usageText = `usage: grove <command> [flags]

commands:
  serve     run the platform: control API, Postgres proxy, computes, storage
  version   print the version`

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New(usageText)
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:])
	case "version":
		fmt.Println("grove", version)
		return nil
	case "-h", "--help", "help":
		fmt.Println(usageText)
		return nil
	default:
		return fmt.Errorf("unknown command %q\n%s", args[0], usageText)
	}
}

var version = "dev"
