package store

// EventReader holds the queries over stored events, alert state and OpsItem
// members (the intake pipeline's data).
type EventReader interface{}

// EventWriter holds the pipeline's writes.
type EventWriter interface{}
