package cors

import (
	"net/http"
	"testing"

	mcors "github.com/minio/minio-go/v7/pkg/cors"
)

// BenchmarkCORS measures the per-request header work on minio-go's
// eight-rule testCors configuration: an actual GET matching the last-but-
// three rule ("*"), and a preflight matching "https://*" with headers.
func BenchmarkCORS(b *testing.B) {
	doc, err := mcors.NewConfig(minioRules).ToXML()
	if err != nil {
		b.Fatal(err)
	}
	c, err := Parse(doc)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("actual", func(b *testing.B) {
		req := http.Header{"Origin": {"http://www.example1.com"}}
		out := http.Header{}
		b.SetBytes(1)
		b.ReportAllocs()
		for b.Loop() {
			clear(out)
			if !c.Actual(http.MethodGet, req, out) {
				b.Fatal("no match")
			}
		}
	})
	b.Run("preflight", func(b *testing.B) {
		req := http.Header{"Origin": {"https://www.secureexample.com"}, "Access-Control-Request-Method": {"DELETE"},
			"Access-Control-Request-Headers": {"x-abc-1,x-abc-second,x-def-1"}}
		out := http.Header{}
		b.SetBytes(1)
		b.ReportAllocs()
		for b.Loop() {
			clear(out)
			if err := c.Preflight(req, out); err != nil {
				b.Fatal(err)
			}
		}
	})
}
