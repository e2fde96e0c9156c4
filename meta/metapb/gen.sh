#!/bin/sh
# gen.sh installs the protobuf code generators (if missing) and regenerates
# meta.pb.go and meta_grpc.pb.go from meta.proto. Needs protoc on PATH
# (Debian: apt-get install -y protobuf-compiler). Run from anywhere.
set -eu
cd "$(dirname "$0")"
GOBIN="$(go env GOPATH)/bin"
export PATH="$GOBIN:$PATH"
command -v protoc-gen-go >/dev/null 2>&1 || go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
command -v protoc-gen-go-grpc >/dev/null 2>&1 || go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.0
protoc --go_out=. --go_opt=paths=source_relative \
	--go-grpc_out=. --go-grpc_opt=paths=source_relative \
	meta.proto
