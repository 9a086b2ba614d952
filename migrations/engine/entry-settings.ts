/**
 * The settings of the engine's entry points (the functions a worker or a client calls): they hold for
 * every statement run inside, nested functions included. Used as `volatile${ENTRY_SETTINGS}` in a
 * function's header.
 */
export const ENTRY_SETTINGS = `
-- JIT compilation costs far more than these short statements ever run.
set jit to off
-- One plan per statement, planned once per session: the statements look rows up by key, so a plan
-- that ignores the arguments is as good, and re-planning each call cost more than running it.
set plan_cache_mode to force_generic_plan
-- Every lookup here goes by key. A plan made while the tables were small would scan them whole
-- once they have grown (and the plan is kept for the session): index paths only.
set enable_seqscan to off
set search_path to ''`;
