// Package object is Tessera's object layer: the one write path and the one
// read path, joining content-defined chunking (chunk), per-chunk compression
// and packing (pack), Reed-Solomon striping (erasure), shard storage (store)
// and the metadata service (meta). It implements s3api.Backend; it knows
// nothing of HTTP or S3 wire formats.
//
// Write path (PutObject, UploadPart): the body is cut into chunks while it
// streams; chunk addresses are looked up in the index in batches; chunks the
// index lacks are compressed into the upload's open pack; a full pack is
// erasure coded k+m and its shards written in parallel to the nodes placement
// picks, while the next pack fills; at the end one metadata commit records the
// new packs, new chunks and the manifest. Nothing is visible before that
// commit, and a failed upload leaves only orphan shards that GC removes.
//
// Read path (OpenObject): the manifest gives the chunks covering the range;
// the chunk index gives each chunk's frame inside its pack; the frame is read
// from the data shard holding it (or rebuilt from any k shards when that
// fails), decoded, checked against its BLAKE3 address, and streamed, with the
// next chunks prefetched.
package object
