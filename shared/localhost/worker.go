package localhost

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// worker is the spawned custom handler process.
type worker struct {
	cmd    *exec.Cmd
	url    *url.URL
	exited chan struct{} // closed when the process has exited
	err    error         // Wait's result, valid after exited is closed
	log    zerolog.Logger
}

// startWorker starts the handler executable and waits until it answers
// GET / (any status), polling every 25 ms as the host does.
func startWorker(ctx context.Context, app *App, o Options) (*worker, error) {
	exe, err := expandSettings(app.Host.ExecutablePath, o.Settings)
	if err != nil {
		return nil, fmt.Errorf("host.json defaultExecutablePath: %w", err)
	}
	if !filepath.IsAbs(exe) {
		if p := filepath.Join(app.Dir, exe); fileExists(p) {
			exe = p
		} else if p, err := exec.LookPath(exe); err == nil {
			exe = p
		} else {
			return nil, fmt.Errorf("host.json defaultExecutablePath %q: not in the app dir and not on PATH", exe)
		}
	}
	args := make([]string, len(app.Host.Arguments))
	for i, a := range app.Host.Arguments {
		if args[i], err = expandSettings(a, o.Settings); err != nil {
			return nil, fmt.Errorf("host.json arguments[%d]: %w", i, err)
		}
	}
	dir := app.Dir
	if wd := app.Host.WorkingDirectory; wd != "" {
		dir = wd
		if !filepath.IsAbs(wd) {
			dir = filepath.Join(app.Dir, wd)
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	workerID := newUUID()
	env := os.Environ()
	for k, v := range o.Settings {
		env = append(env, k+"="+v)
	}
	env = append(env,
		"FUNCTIONS_CUSTOMHANDLER_PORT="+port,
		"FUNCTIONS_HTTPWORKER_PORT="+port,
		"FUNCTIONS_CUSTOMHANDLER_WORKER_ID="+workerID,
		"FUNCTIONS_HTTPWORKER_ID="+workerID,
		"FUNCTIONS_APP_ROOT_PATH="+app.Dir,
	)
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	cmd.Env = env
	w := &worker{cmd: cmd, exited: make(chan struct{}), log: o.Log.With().Str("source", "worker").Logger()}
	w.url = &url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", port)}
	outR, outW := io.Pipe()
	errR, errW := io.Pipe()
	cmd.Stdout, cmd.Stderr = outW, errW
	// Don't let an orphaned grandchild holding the pipes block Wait forever.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting worker %s: %w", exe, err)
	}
	go w.pump(outR, false)
	go w.pump(errR, true)
	go func() {
		w.err = cmd.Wait()
		_ = outW.Close()
		_ = errW.Close()
		close(w.exited)
	}()
	o.Log.Info().Int("pid", cmd.Process.Pid).Str("port", port).Msg("worker started")
	if err := w.waitReady(ctx, o.StartupTimeout); err != nil {
		w.stop(o.ShutdownGrace)
		return nil, err
	}
	return w, nil
}

// pump logs the child's output line by line. The host treats stderr lines
// as errors.
func (w *worker) pump(r io.Reader, stderr bool) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		if stderr {
			w.log.Error().Str("stream", "stderr").Msg(sc.Text())
		} else {
			w.log.Info().Str("stream", "stdout").Msg(sc.Text())
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

func (w *worker) waitReady(ctx context.Context, timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := client.Get(w.url.String() + "/")
		if err == nil {
			_ = resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("worker did not answer GET / on %s within %s", w.url.Host, timeout)
		}
		select {
		case <-w.exited:
			return fmt.Errorf("worker exited before it was ready: %v", w.exitErr())
		case <-ctx.Done():
			return fmt.Errorf("waiting for the worker: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

func (w *worker) exitErr() error {
	if w.err == nil {
		return errors.New("exit status 0")
	}
	return w.err
}

// stop asks the worker to stop (SIGTERM; kill on platforms without it),
// waits up to grace, then kills it.
func (w *worker) stop(grace time.Duration) {
	select {
	case <-w.exited:
		return
	default:
	}
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		_ = w.cmd.Process.Kill()
	}
	select {
	case <-w.exited:
		w.log.Info().Msg("worker stopped")
	case <-time.After(grace):
		w.log.Warn().Dur("grace", grace).Msg("worker did not stop in time; killing it")
		_ = w.cmd.Process.Kill()
		<-w.exited
	}
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// freePort asks the OS for a free loopback port.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port for the worker: %w", err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}

// done is closed when the worker process has exited.
func (w *worker) done() <-chan struct{} { return w.exited }
