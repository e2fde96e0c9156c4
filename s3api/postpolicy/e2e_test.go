package postpolicy

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestHTTPServer posts minio-go forms to an httptest server whose handler
// parses, verifies and streams the file, answering as the S3 handler would:
// 204 on success, 403 for policy failures, 400 for the rest.
func TestHTTPServer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := http.StatusNoContent
		f, err := Parse(r.Context(), r, 0)
		if err == nil {
			f.Bucket = r.URL.Path[1:]
			_, err = f.Verify(r.Context(), testCreds, time.Now())
		}
		if err == nil {
			_, err = io.Copy(io.Discard, f.File)
		}
		var pe *PolicyError
		msg := ""
		switch {
		case errors.As(err, &pe):
			status, msg = http.StatusForbidden, pe.Reason
		case err != nil:
			status = http.StatusBadRequest
		}
		w.WriteHeader(status)
		io.WriteString(w, msg)
	}))
	defer srv.Close()
	file := data(33 << 10)
	tests := []struct {
		name       string
		fileField  string
		edit       func(map[string]string)
		size       int
		wantStatus int
	}{
		{"ok", "file", func(map[string]string) {}, len(file), http.StatusNoContent},
		{"wrong-checksum", "file", func(m map[string]string) { m["x-amz-checksum-crc32c"] = "AAAAAA==" }, len(file), http.StatusForbidden},
		{"empty-file-name", "", func(map[string]string) {}, len(file), http.StatusBadRequest},
		{"too-small", "file", func(map[string]string) {}, 5, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := basePolicy(t, "obj", file[:tt.size])
			form := presign(t, p, false, testSecret)
			tt.edit(form)
			b, ct := body(t, form, tt.fileField, "/tmp/datafile", file[:tt.size])
			req, err := http.NewRequest("POST", srv.URL+"/"+testBucket, b)
			must(t, err)
			req.Header.Set("Content-Type", ct)
			resp, err := srv.Client().Do(req)
			must(t, err)
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %s (%s), want %d", resp.Status, msg, tt.wantStatus)
			}
		})
	}
}
