// Command worker is a tiny custom handler for the local host's tests: it
// serves funcapp on FUNCTIONS_CUSTOMHANDLER_PORT and stops on SIGTERM.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/rs/zerolog"
)

func main() {
	log := zerolog.New(os.Stdout).With().Timestamp().Logger()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	handlers := map[string]funcapp.Handler{
		"Hello": funcapp.HTTPHandler(func(ctx context.Context, req funcapp.HTTPRequest) (funcapp.Result, error) {
			// GREETING is an app setting; the app root comes from the host.
			return funcapp.JSON(200, map[string]string{
				"greeting": os.Getenv("GREETING"),
				"name":     req.Params["name"],
				"root":     os.Getenv("FUNCTIONS_APP_ROOT_PATH"),
			}), nil
		}),
		"Die": funcapp.HTTPHandler(func(ctx context.Context, req funcapp.HTTPRequest) (funcapp.Result, error) {
			fmt.Fprintln(os.Stderr, "dying on purpose")
			os.Exit(3)
			return funcapp.Result{}, nil
		}),
	}
	if err := funcapp.Serve(ctx, os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT"), funcapp.NewServer(log, handlers), nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	log.Info().Msg("worker stopped cleanly")
}
