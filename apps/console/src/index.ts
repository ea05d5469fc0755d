// The console stage is not built yet: it arrives with the end-to-end issue. This entry exports nothing
// until then, so nothing can mistake it for a working stage.
export {};
