// Package testutil holds helpers for tests against real local parts: Azurite
// for Storage, and httptest stand-ins for remote APIs.
package testutil

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/config"
)

// AzuriteAccount is Azurite's well-known development account.
const AzuriteAccount = "devstoreaccount1"

// AzuriteConnectionString is the connection string for Azurite on 127.0.0.1.
const AzuriteConnectionString = config.AzuriteConnectionString

// Azurite returns the Azurite connection string, or skips the test when
// Azurite is not listening. When GOVKIT_REQUIRE_AZURITE=1 (set by make test
// and CI) an absent Azurite fails the test instead: CI never silently skips.
func Azurite(tb testing.TB) string {
	tb.Helper()
	for _, port := range []string{"10000", "10001", "10002"} {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second)
		if err != nil {
			msg := fmt.Sprintf("Azurite is not listening on 127.0.0.1:%s (start it with infra/local/azurite.sh start): %v", port, err)
			if os.Getenv("GOVKIT_REQUIRE_AZURITE") == "1" {
				tb.Fatal(msg)
			}
			tb.Skip(msg)
		}
		_ = c.Close()
	}
	return AzuriteConnectionString
}

// UniqueName returns a name unique to this test run, usable as a table,
// queue or container name: lower-case letters and digits, starting with a
// letter, at most 63 characters.
func UniqueName(prefix string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	p := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, strings.ToLower(prefix))
	if p == "" || p[0] < 'a' {
		p = "t" + p
	}
	if len(p) > 50 {
		p = p[:50]
	}
	return p + hex.EncodeToString(b)
}
