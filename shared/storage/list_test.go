package storage_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/storage"
	"github.com/hybrid-storage/hybrid-storage/shared/testenv"
)

// List pages through the keys under a prefix in key order, after a given
// key, at most max at a time, on both tiers.
func TestListPagesUnderAPrefix(t *testing.T) {
	t.Parallel()
	a := testenv.App(t, testenv.Config(t))
	ctx := context.Background()
	type lister interface {
		List(ctx context.Context, prefix, after string, max int) ([]storage.ObjectInfo, error)
	}
	put := map[string]func(key string) error{
		"hot": func(key string) error {
			_, err := a.Hot.Put(ctx, key, strings.NewReader("x"), 1, storage.PutOptions{})
			return err
		},
		"cold": func(key string) error {
			_, err := a.Cold.Put(ctx, key, strings.NewReader("x"), 1, storage.PutOptions{})
			return err
		},
	}
	for name, l := range map[string]lister{"hot": a.Hot, "cold": a.Cold} {
		t.Run(name, func(t *testing.T) {
			var want []string
			for i := range 5 {
				k := fmt.Sprintf("user-%d/obj-%d", i%2+1, i)
				want = append(want, k)
				if err := put[name](k); err != nil {
					t.Fatal(err)
				}
			}
			if err := put[name]("other/outside"); err != nil {
				t.Fatal(err)
			}
			// Key order: user-1/obj-0, user-1/obj-2, user-1/obj-4, user-2/obj-1, user-2/obj-3.
			want = []string{want[0], want[2], want[4], want[1], want[3]}
			var got []string
			after := ""
			for range 10 {
				page, err := l.List(ctx, "user-", after, 2)
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range page {
					got = append(got, o.Key)
					if o.Size != 1 || time.Since(o.LastModified) > time.Hour || o.LastModified.After(time.Now().Add(time.Minute)) {
						t.Errorf("%s: size %d, last modified %s", o.Key, o.Size, o.LastModified)
					}
				}
				if len(page) < 2 {
					break
				}
				after = page[len(page)-1].Key
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("listed %v, want %v", got, want)
			}
		})
	}
}
