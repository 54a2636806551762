package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// A data directory whose test binary has exited is removed; one whose
// owner runs, or that has no owner file, stays.
func TestSweepS3Dirs(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatalf("run true to take a pid: %v", err)
	}
	mk := func(name string, owner int) string {
		d := filepath.Join(tmp, s3DirPrefix+name)
		if err := os.MkdirAll(filepath.Join(d, "bucket"), 0o700); err != nil {
			t.Fatal(err)
		}
		if owner != 0 {
			if err := os.WriteFile(filepath.Join(d, ownerFile), []byte(strconv.Itoa(owner)), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	dead := mk("dead", gone.Process.Pid)
	alive := mk("alive", os.Getppid()) // the go command, running
	mine := mk("mine", os.Getpid())
	unowned := mk("unowned", 0)
	sweepS3Dirs()
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("directory of an exited binary kept (stat: %v)", err)
	}
	for _, d := range []string{alive, mine, unowned} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s removed: %v", d, err)
		}
	}
}
