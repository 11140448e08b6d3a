package testutil

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// AzuriteBinEnv names a setting that overrides where PrivateAzurite finds
// the azurite binary (default: infra/local/node_modules/.bin/azurite under
// the module root).
const AzuriteBinEnv = "GOVKIT_AZURITE_BIN"

// azuriteAccountKey is the well-known key of AzuriteAccount.
const azuriteAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

// PrivateAzurite is an Azurite process of one test's own: its own free
// ports on 127.0.0.1 and its own data folder with disk persistence, so a
// test can stop it under a running job and start it again with the data
// intact. Never use it to stand in for the shared Azurite on
// 127.0.0.1:10000-10002, which other tests rely on.
type PrivateAzurite struct {
	bin, dir           string
	blob, queue, table int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	out  *syncBuffer
}

// StartPrivateAzurite starts a private Azurite and stops it when the test
// ends. It skips the test when the azurite binary (or node) is missing,
// and fails it instead when GOVKIT_REQUIRE_AZURITE=1.
func StartPrivateAzurite(tb testing.TB) *PrivateAzurite {
	tb.Helper()
	bin, err := azuriteBin()
	if err == nil {
		_, err = exec.LookPath("node")
	}
	if err != nil {
		msg := fmt.Sprintf("a private Azurite needs the azurite binary and node (run cd infra/local && npm ci, or set %s): %v", AzuriteBinEnv, err)
		if os.Getenv("GOVKIT_REQUIRE_AZURITE") == "1" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	ports, err := freePorts(3)
	if err != nil {
		tb.Fatalf("private Azurite: %v", err)
	}
	a := &PrivateAzurite{bin: bin, dir: tb.TempDir(), blob: ports[0], queue: ports[1], table: ports[2]}
	tb.Cleanup(func() { a.stop(tb, false) })
	a.Start(tb)
	return a
}

// ConnectionString is the connection string of the private Azurite. It
// stays valid across Stop and Start.
func (a *PrivateAzurite) ConnectionString() string {
	ep := func(port int) string { return "http://127.0.0.1:" + strconv.Itoa(port) + "/" + AzuriteAccount }
	return "DefaultEndpointsProtocol=http;AccountName=" + AzuriteAccount + ";AccountKey=" + azuriteAccountKey +
		";BlobEndpoint=" + ep(a.blob) + ";QueueEndpoint=" + ep(a.queue) + ";TableEndpoint=" + ep(a.table) + ";"
}

// Start starts Azurite on the same ports and data folder as before and
// waits (up to a minute) until every service accepts connections.
func (a *PrivateAzurite) Start(tb testing.TB) {
	tb.Helper()
	a.mu.Lock()
	if a.cmd != nil {
		a.mu.Unlock()
		tb.Fatal("private Azurite: Start while running")
	}
	// The flags of infra/local/azurite.sh, with disk persistence in our own
	// folder and our own ports.
	cmd := exec.Command(a.bin, "--silent", "--disableTelemetry", "--skipApiVersionCheck", "--loose",
		"--location", a.dir,
		"--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(a.blob),
		"--queueHost", "127.0.0.1", "--queuePort", strconv.Itoa(a.queue),
		"--tableHost", "127.0.0.1", "--tablePort", strconv.Itoa(a.table))
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		a.mu.Unlock()
		tb.Fatalf("private Azurite: start %s: %v", a.bin, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	a.cmd, a.done, a.out = cmd, done, out
	a.mu.Unlock()
	deadline := time.Now().Add(time.Minute)
	for _, port := range []int{a.blob, a.queue, a.table} {
		for {
			c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
			if err == nil {
				_ = c.Close()
				break
			}
			select {
			case <-done:
				tb.Fatalf("private Azurite exited while starting (%v):\n%s", cmd.ProcessState, out)
			default:
			}
			if time.Now().After(deadline) {
				tb.Fatalf("private Azurite did not listen on 127.0.0.1:%d within a minute:\n%s", port, out)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// Stop stops Azurite as an operator would (SIGTERM: it closes its
// listeners and saves its data) and waits for it to exit; after 30
// seconds it is killed. Requests then fail with connection refused until
// Start.
func (a *PrivateAzurite) Stop(tb testing.TB) {
	tb.Helper()
	a.stop(tb, true)
}

func (a *PrivateAzurite) stop(tb testing.TB, strict bool) {
	a.mu.Lock()
	cmd, done := a.cmd, a.done
	a.cmd = nil
	a.mu.Unlock()
	if cmd == nil {
		if strict {
			tb.Fatal("private Azurite: Stop while stopped")
		}
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		if strict {
			tb.Errorf("private Azurite did not exit within 30s of SIGTERM; killed (unsaved data may be lost)")
		}
	}
	// The ports are free again once the process is gone; make sure before
	// a restart binds them.
	for _, port := range []int{a.blob, a.queue, a.table} {
		for range 100 {
			c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 100*time.Millisecond)
			if err != nil {
				break
			}
			_ = c.Close()
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// Output returns what the Azurite process printed (its errors).
func (a *PrivateAzurite) Output() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.out == nil {
		return ""
	}
	return a.out.String()
}

// syncBuffer is a bytes.Buffer safe for concurrent writes and reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// azuriteBin finds the azurite binary.
func azuriteBin() (string, error) {
	if p := os.Getenv(AzuriteBinEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", err
		}
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "infra", "local", "node_modules", ".bin", "azurite")
			if _, err := os.Stat(p); err != nil {
				return "", err
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// freePorts returns n distinct ports free on 127.0.0.1 just now.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		_, p, _ := strings.Cut(l.Addr().String(), ":")
		port, err := strconv.Atoi(p)
		if err != nil {
			return nil, err
		}
		ports = append(ports, port)
	}
	return ports, nil
}
