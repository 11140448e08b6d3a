package testutil

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Environment of a child started by StartChild.
const (
	// ChildEnv names the helper test the child runs.
	ChildEnv = "GOVKIT_TEST_CHILD"
	// ChildConfigEnv holds the child's configuration as JSON.
	ChildConfigEnv = "GOVKIT_TEST_CHILD_CONFIG"
	// ChildReportEnv names the file the child writes its report to.
	ChildReportEnv = "GOVKIT_TEST_CHILD_REPORT"
)

// Child is the test binary re-executed to run one helper test as a real
// process, so that a test can kill it (SIGKILL: no deferred function, no
// flush, nothing in memory survives) in the middle of a job.
//
// The helper test starts with
//
//	if !testutil.IsChild(t.Name()) { t.Skip("helper process for ...") }
//
// reads its configuration with ChildConfig and may write a report with
// WriteChildReport.
type Child struct {
	name   string
	cmd    *exec.Cmd
	out    *syncBuffer
	done   chan struct{}
	report string
}

// IsChild reports whether this process is a child started by StartChild
// to run the helper test name.
func IsChild(name string) bool { return os.Getenv(ChildEnv) == name }

// ChildConfig decodes the child's configuration into v.
func ChildConfig(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal([]byte(os.Getenv(ChildConfigEnv)), v); err != nil {
		tb.Fatalf("child configuration (%s): %v", ChildConfigEnv, err)
	}
}

// WriteChildReport writes v (as JSON) where the parent's Child.Report
// reads it.
func WriteChildReport(tb testing.TB, v any) {
	tb.Helper()
	b, err := json.Marshal(v)
	if err == nil {
		err = os.WriteFile(os.Getenv(ChildReportEnv), b, 0o600)
	}
	if err != nil {
		tb.Fatalf("child report: %v", err)
	}
}

// StartChild re-executes the test binary to run the helper test name
// (matched exactly) with config passed as JSON. The child inherits the
// environment; it is killed, if still running, when the test ends.
func StartChild(tb testing.TB, name string, config any) *Child {
	tb.Helper()
	cfg, err := json.Marshal(config)
	if err != nil {
		tb.Fatal(err)
	}
	c := &Child{name: name, out: &syncBuffer{}, done: make(chan struct{}),
		report: filepath.Join(tb.TempDir(), "report.json")}
	c.cmd = exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.count=1", "-test.v")
	c.cmd.Env = append(os.Environ(), ChildEnv+"="+name, ChildConfigEnv+"="+string(cfg), ChildReportEnv+"="+c.report)
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	if err := c.cmd.Start(); err != nil {
		tb.Fatalf("start child %s: %v", name, err)
	}
	go func() { _ = c.cmd.Wait(); close(c.done) }()
	tb.Cleanup(func() {
		select {
		case <-c.done:
		default:
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

// Done is closed when the child has exited.
func (c *Child) Done() <-chan struct{} { return c.done }

// Output is what the child has printed so far.
func (c *Child) Output() string { return c.out.String() }

// Kill kills the child with SIGKILL and waits until it is gone.
func (c *Child) Kill(tb testing.TB) {
	tb.Helper()
	select {
	case <-c.done:
		tb.Fatalf("child %s exited before it could be killed:\n%s", c.name, c.Output())
	default:
	}
	if err := c.cmd.Process.Kill(); err != nil {
		tb.Fatalf("kill child %s: %v", c.name, err)
	}
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		tb.Fatalf("child %s still running 30s after SIGKILL", c.name)
	}
	if st := c.cmd.ProcessState; st == nil || st.Success() {
		tb.Fatalf("child %s was not killed: %v", c.name, st)
	}
}

// Wait waits up to timeout for the child to exit and fails the test, with
// its output, when it failed or did not exit.
func (c *Child) Wait(tb testing.TB, timeout time.Duration) {
	tb.Helper()
	select {
	case <-c.done:
	case <-time.After(timeout):
		_ = c.cmd.Process.Kill()
		<-c.done
		tb.Fatalf("child %s did not finish within %s:\n%s", c.name, timeout, c.Output())
	}
	if !c.cmd.ProcessState.Success() {
		tb.Fatalf("child %s failed (%v):\n%s", c.name, c.cmd.ProcessState, c.Output())
	}
}

// Report decodes the report the child wrote with WriteChildReport.
func (c *Child) Report(tb testing.TB, v any) {
	tb.Helper()
	b, err := os.ReadFile(c.report)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		tb.Fatalf("child %s report: %v\n%s", c.name, err, c.Output())
	}
}

// String names the child.
func (c *Child) String() string { return fmt.Sprintf("child %s (pid %d)", c.name, c.cmd.Process.Pid) }

// KillAndRerun starts the helper test name as a child on config and waits
// until gate holds it; calls held (which checks that the child is
// provably mid-run), kills the child with SIGKILL and releases the gate;
// calls after, if not nil (a change between the runs); then runs the
// helper test again in a fresh child to completion and decodes its report
// into report.
func KillAndRerun(tb testing.TB, name string, config any, gate *Gate, held, after func(), report any) {
	tb.Helper()
	child := StartChild(tb, name, config)
	gate.WaitReached(tb, time.Minute, child)
	held()
	child.Kill(tb)
	gate.Release()
	if after != nil {
		after()
	}
	again := StartChild(tb, name, config)
	again.Wait(tb, 2*time.Minute)
	again.Report(tb, report)
}
