package agent

// CloudSection exposes cloudSection to the external tests.
var CloudSection = cloudSection
