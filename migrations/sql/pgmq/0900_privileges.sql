-- New functions are executable by PUBLIC by default; the queue layer grants nothing to anyone.
revoke execute on all functions in schema pgmq from public;
