// Package metapb holds the generated protobuf and gRPC code of the metadata
// service's wire protocol (meta.proto). Edit meta.proto, then run
// `go generate ./meta/metapb` (gen.sh installs the generators; protoc comes
// from the Debian package protobuf-compiler). meta/remote converts between
// these messages and the meta package's types.
package metapb

//go:generate ./gen.sh
