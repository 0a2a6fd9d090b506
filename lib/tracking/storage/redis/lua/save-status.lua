--[[
  saveStatus: whole runs, as the manager saves them (start, renames, cancels, unconditional finishes).
    KEYS[1]  the all-runs index (routing only: a script declaring no key goes to any Cluster node)
    ARGV[1]  origin (the writer's id, echoed in the change feed)
    ARGV[2]  run records, one or more (includes/save-runs.lua describes the packing)
  Answers each run's version, or an error for that run alone.

  Atomic: the run hash, its status / name / id / expiry index entries, the rollup diffs, the change
  log and the announcement. A reader never sees a run whose indexes disagree with it, concurrent
  writers (the steps of one dataflow run in several processes) never interleave half-writes, and a
  subscriber never hears of a change before it can be read. Consecutive saves share one call (the
  write queue merges them), so the per-call cost is paid once per batch, with one PUBLISH.
]]
--- @include "includes/save-runs"

return saveRuns(false)
