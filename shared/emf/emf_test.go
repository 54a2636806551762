package emf

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// TestRecordShape: the record is one line of JSON with the _aws metadata
// the specification requires and each metric's value at the root.
func TestRecordShape(t *testing.T) {
	var b bytes.Buffer
	at := time.UnixMilli(1_700_000_000_123)
	if err := Write(&b, at, Metric{"SyncRunFailed", "Count", 1}, Metric{"SyncBytes", "Bytes", 2048}); err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b.Bytes(), []byte("\n")); n != 1 || b.Bytes()[b.Len()-1] != '\n' {
		t.Fatalf("want one line, got %q", b.String())
	}
	var rec struct {
		AWS struct {
			Timestamp         int64 `json:"Timestamp"`
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		SyncRunFailed float64
		SyncBytes     float64
	}
	if err := json.Unmarshal(b.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	d := rec.AWS.CloudWatchMetrics
	if rec.AWS.Timestamp != 1_700_000_000_123 || len(d) != 1 || d[0].Namespace != Namespace ||
		len(d[0].Dimensions) != 1 || len(d[0].Dimensions[0]) != 0 || len(d[0].Metrics) != 2 ||
		d[0].Metrics[1].Name != "SyncBytes" || d[0].Metrics[1].Unit != "Bytes" {
		t.Fatalf("metadata %+v", rec.AWS)
	}
	if rec.SyncRunFailed != 1 || rec.SyncBytes != 2048 {
		t.Fatalf("values %v %v", rec.SyncRunFailed, rec.SyncBytes)
	}
}
