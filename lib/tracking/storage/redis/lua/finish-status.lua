--[[
  finishStatus: the terminal compare-and-set of whole runs.
    KEYS[1]  the all-runs index (routing only)
    ARGV[1]  origin
    ARGV[2]  run records in their final state (includes/save-runs.lua describes the packing)
  Answers each run's version, 0 when it is not stored, -1 when it had already finished; a refused
  run announces nothing.

  Atomic: the check (stored and still unfinished) with the write, so a cancel and a finish from two
  processes cannot both win and a deleted run is never recreated. A step the store holds as ended
  (COMPLETED or FAILED) is kept, with its contribution, over another state in the final write
  (step-order.ts keepsStoredStep): a cancel from another process may carry CANCELLED for a step that
  ended since its read.
]]
--- @include "includes/save-runs"

return saveRuns(true)
