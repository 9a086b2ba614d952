-- New functions are executable by PUBLIC by default; the engine grants nothing to anyone.
revoke execute on all functions in schema pgflow from public;
