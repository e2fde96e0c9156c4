// Package e2e runs Tessera's all-in-one server (gateway.RunServer: S3 API,
// object layer, embedded metadata, six disk drives) in-process and drives it
// with real S3 clients: minio-go and aws-sdk-go-v2.
//
// One server is shared by the package (TestMain); tests that need isolation
// (GC, dedup accounting, virtual-host domains) start their own. Tests run
// sequentially: several compare whole-server figures (stats, goroutines,
// shard files) before and after an operation.
//
// Run: go test ./test/e2e (about 15-40 s; -race about 60-80 s). The
// memory test's full run (16 concurrent 1 GiB uploads) needs
// TESSERA_MEMTEST=1; see docs/arch/e2e.md.
package e2e
