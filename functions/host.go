package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/council-ict/govkit/shared/config"
	"github.com/council-ict/govkit/shared/localhost"
	"github.com/rs/zerolog"
)

// hostCommand runs the local Functions host (what `func start` does) over a
// staged app directory, for development without Azure.
func hostCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("host", flag.ContinueOnError)
	fs.SetOutput(stderr)
	app := fs.String("app", "dist", "staged app directory: host.json, handler, <FunctionName>/function.json")
	settingsFile := fs.String("settings", "infra/local/local.settings.json", "local.settings.json-style file whose Values become app settings (environment variables win)")
	addr := fs.String("addr", "127.0.0.1:7071", "address for HTTP triggers and the admin API (keep it on loopback)")
	maxDeliveries := fs.Int("max-deliveries", 5, "deliveries of a Service Bus stand-in message before it is dead-lettered (the Bicep's maxDeliveryCount)")
	pretty := fs.Bool("pretty", true, "human-readable logs on a terminal")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	settings, err := loadLocalSettings(*settingsFile)
	if err != nil {
		fmt.Fprintln(stderr, "handler host:", err)
		return 2
	}
	for k := range settings { // environment variables override the file
		if v, ok := os.LookupEnv(k); ok {
			settings[k] = v
		}
	}
	var out io.Writer = stdout
	if *pretty {
		out = zerolog.ConsoleWriter{Out: stdout, TimeFormat: "15:04:05"}
	}
	log := zerolog.New(out).With().Timestamp().Str("component", "localhost").Logger()
	err = localhost.Run(ctx, localhost.Options{
		AppDir:                  *app,
		Addr:                    *addr,
		Settings:                settings,
		StorageConnectionString: config.ExpandConnectionString(settings["AzureWebJobsStorage"]),
		MaxDeliveries:           *maxDeliveries,
		Log:                     log,
		Ready: func(a string) {
			log.Info().Msgf("function app ready on http://%s (try: curl http://%s/api/health; Ctrl-C stops)", a, a)
		},
	})
	if err != nil {
		fmt.Fprintln(stderr, "handler host:", err)
		return 1
	}
	return 0
}

// loadLocalSettings reads the Values of a local.settings.json file.
func loadLocalSettings(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("settings file: %w", err)
	}
	var f struct {
		IsEncrypted bool              `json:"IsEncrypted"`
		Values      map[string]string `json:"Values"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("settings file %s: %w", path, err)
	}
	if f.IsEncrypted {
		return nil, fmt.Errorf("settings file %s is encrypted; the local host reads plain values only", path)
	}
	if f.Values == nil {
		f.Values = map[string]string{}
	}
	for k, v := range f.Values {
		f.Values[k] = strings.TrimSpace(v)
	}
	return f.Values, nil
}
