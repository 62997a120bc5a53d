package agent

// CloudSection exposes cloudSection to the external tests.
var CloudSection = cloudSection

// ListeningPorts exposes listeningPorts to the external tests.
var ListeningPorts = listeningPorts
