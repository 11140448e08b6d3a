// Command handler is the function app's custom handler: one binary serving
// every function to the Azure Functions host.
//
//	handler                 serve invocations on FUNCTIONS_CUSTOMHANDLER_PORT (what the host runs)
//	handler stage DIR       write DIR/<FunctionName>/function.json for every function
//	handler settings        print every setting, its default and meaning (Markdown)
//	handler access          print who may call which HTTP route (Markdown)
//	handler functions       list the registered function names
//	handler check           validate settings as the host would start us, then exit
//	handler host [flags]    the local Functions host for development (see -h)
//	handler version         print the build version
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/council-ict/govkit/shared/config"
	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/rs/zerolog"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr))
}

// run executes one command with settings from lookup and returns the exit code.
func run(ctx context.Context, args []string, lookup config.LookupFunc, stdout, stderr io.Writer) int {
	cmd := ""
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "":
		return serve(ctx, config.New(lookup), stdout, stderr)
	case "check":
		// The host sets the port when it starts us; everything else is ours to check.
		l := config.New(func(name string) (string, bool) {
			if v, ok := lookup(name); ok || name != "FUNCTIONS_CUSTOMHANDLER_PORT" {
				return v, ok
			}
			return "0", true
		})
		processSettings(l)
		if _, _, err := build(l, zerolog.Nop()); err != nil {
			fmt.Fprintln(stderr, "handler: configuration is not valid:", err)
			return 2
		}
		fmt.Fprintln(stdout, "configuration is valid")
		return 0
	case "stage":
		if len(args) != 1 {
			fmt.Fprintln(stderr, "usage: handler stage DIR")
			return 2
		}
		if err := stage(args[0]); err != nil {
			fmt.Fprintln(stderr, "handler stage:", err)
			return 1
		}
		return 0
	case "settings":
		printSettings(stdout)
		return 0
	case "access":
		printAccess(stdout)
		return 0
	case "functions":
		for _, f := range registry() {
			fmt.Fprintln(stdout, f.Name)
		}
		return 0
	case "host":
		return hostCommand(ctx, args, stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, version)
		return 0
	default:
		fmt.Fprintf(stderr, "handler: unknown command %q (commands: stage, settings, access, functions, check, host, version)\n", cmd)
		return 2
	}
}

// serve loads every setting, builds every function, then serves the host.
// Bad settings stop it before it listens, all of them named at once.
func serve(ctx context.Context, l *config.Loader, stdout, stderr io.Writer) int {
	start := time.Now()
	port, level, format := processSettings(l)
	lvl, _ := zerolog.ParseLevel(level)
	var out = stdout
	if format == "console" {
		out = zerolog.ConsoleWriter{Out: stdout, TimeFormat: "15:04:05", NoColor: true}
	}
	log := zerolog.New(out).Level(lvl).With().Timestamp().Str("version", version).Logger()

	handlers, closer, err := build(l, log)
	if err != nil {
		fmt.Fprintln(stderr, "handler: refusing to start:", err)
		log.Error().Msg("refusing to start: invalid configuration (details on stderr)")
		return 2
	}
	defer closer()
	srv := funcapp.NewServer(log, handlers)
	err = funcapp.Serve(ctx, port, srv, func(addr net.Addr) {
		log.Info().Str("addr", addr.String()).Int("functions", len(handlers)).
			Dur("startup", time.Since(start)).Msg("handler ready")
	})
	if err != nil {
		log.Error().Err(err).Msg("handler stopped")
		return 1
	}
	log.Info().Msg("handler stopped")
	return 0
}

// processSettings reads the settings of the process itself.
func processSettings(l *config.Loader) (port, level, format string) {
	port = l.Required("FUNCTIONS_CUSTOMHANDLER_PORT", "Port the Functions host tells the handler to listen on (set by the host).")
	level = l.OneOf("GOVKIT_LOG_LEVEL", "info", "Log level.", "debug", "info", "warn", "error")
	format = l.OneOf("GOVKIT_LOG_FORMAT", "json", "Log format: json for Azure (one object a line), console for people.", "json", "console")
	return port, level, format
}

// allSettings lists every setting the handler reads, with defaults.
func allSettings() []config.Setting {
	l := config.New(config.FromMap(nil))
	processSettings(l)
	_, _, _ = build(l, zerolog.Nop())
	return l.Settings()
}

// build reads every setting and constructs every registered function. It
// performs no I/O, so it can also list settings and validate configuration.
func build(l *config.Loader, log zerolog.Logger) (map[string]funcapp.Handler, func(), error) {
	d, derr := newDeps(l, log)
	auth := loadAuth(l)
	if auth.Dev != nil {
		log.Warn().Str("objectId", auth.Dev.ObjectID).Strs("roles", auth.Dev.Roles).
			Msg("development identity in use for every API call (GOVKIT_DEV_PRINCIPAL); never set this in Azure")
	}
	handlers := map[string]funcapp.Handler{}
	var errs []error
	if derr != nil {
		errs = append(errs, derr)
	}
	for _, f := range registry() {
		h, err := f.Build(l, d)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.Name, err))
			continue
		}
		if f.Trigger == "httpTrigger" {
			h = auth.Wrap(f.Name, h)
		}
		handlers[f.Name] = h
	}
	if err := l.Err(); err != nil {
		errs = append([]error{err}, errs...)
	}
	if len(errs) > 0 {
		d.Close()
		return nil, func() {}, errors.Join(errs...)
	}
	return handlers, d.Close, nil
}

func printSettings(w io.Writer) {
	fmt.Fprintln(w, "| setting | default | meaning |")
	fmt.Fprintln(w, "|---|---|---|")
	for _, s := range allSettings() {
		def := s.Default
		if s.Required {
			def = "*(required)*"
		}
		if def == "" {
			def = "*(unset)*"
		}
		desc := s.Description
		if s.Secret {
			desc += " Secret: use a Key Vault reference in Azure."
		}
		fmt.Fprintf(w, "| `%s` | %s | %s |\n", s.Name, def, desc)
	}
}
