package config

import (
	"strings"
	"testing"
)

func TestSyncVerifyAndColdStorageClass(t *testing.T) {
	base := map[string]string{"SECRET_KEY": strings.Repeat("k", 32)}
	load := func(k, v string) (Config, error) {
		m := map[string]string{k: v}
		for bk, bv := range base {
			m[bk] = bv
		}
		return Load(env(m))
	}
	c, err := Load(env(base))
	if err != nil || c.SyncVerify != "checksum" || c.ColdStorageClass != "STANDARD" {
		t.Fatalf("defaults: verify %q, class %q, %v; want checksum, STANDARD", c.SyncVerify, c.ColdStorageClass, err)
	}
	if c, err := load("SYNC_VERIFY", "readback"); err != nil || c.SyncVerify != "readback" {
		t.Errorf("SYNC_VERIFY=readback: %q, %v", c.SyncVerify, err)
	}
	if _, err := load("SYNC_VERIFY", "none"); err == nil || !strings.Contains(err.Error(), "SYNC_VERIFY") {
		t.Errorf("SYNC_VERIFY=none: %v, want an error naming the variable", err)
	}
	for _, class := range []string{"STANDARD", "STANDARD_IA", "INTELLIGENT_TIERING", "GLACIER_IR"} {
		if c, err := load("COLD_STORAGE_CLASS", class); err != nil || c.ColdStorageClass != class {
			t.Errorf("COLD_STORAGE_CLASS=%s: %q, %v", class, c.ColdStorageClass, err)
		}
	}
	for _, class := range []string{"GLACIER", "DEEP_ARCHIVE", "ONEZONE_IA", "standard_ia", "REDUCED_REDUNDANCY"} {
		_, err := load("COLD_STORAGE_CLASS", class)
		if err == nil || !strings.HasPrefix(err.Error(), "config: COLD_STORAGE_CLASS: ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("COLD_STORAGE_CLASS=%s: %v, want one line naming the variable", class, err)
		}
	}
	if _, err := load("COLD_STORAGE_CLASS", "DEEP_ARCHIVE"); err == nil || !strings.Contains(err.Error(), "restore") {
		t.Errorf("DEEP_ARCHIVE: %v, want the reason (a restore)", err)
	}
}
