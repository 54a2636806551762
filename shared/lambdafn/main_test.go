package lambdafn_test

import (
	"os"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/testenv/lambdagw"
)

// TestMain removes the bootstraps lambdagw.Build made for the emulator tests.
func TestMain(m *testing.M) {
	code := m.Run()
	lambdagw.Cleanup()
	os.Exit(code)
}
