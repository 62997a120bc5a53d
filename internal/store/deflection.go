package store

// DeflectionReader holds the queries over silences and maintenance windows.
type DeflectionReader interface{}

// DeflectionWriter holds their writes.
type DeflectionWriter interface{}
