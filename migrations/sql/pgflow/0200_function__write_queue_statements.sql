-- Writes, into pgflow._queue_read, _queue_archive, _queue_send and _queue_has_visible, a static copy
-- of the queue layer's statement for each flow's queue: pgmq.read, pgmq.archive and pgmq.send_batch
-- (and the claimed paths' look for a visible message) build their statement for the queue's table and
-- plan it at every call, which cost a one-step run about a tenth of its server time
-- (docs/SCALING.md); a static statement is planned once per session. Each function keeps
-- its catalog definition and its generic call (the last statement): only the lines after its marker
-- are rewritten, one `if` per queue, for the flows whose queue tables exist, the newest 200 flows at
-- most. The function is replaced only when its text changes.
-- Called by create_flow (without waiting: when another transaction is writing them, that one or the
-- next call brings them up to date), by delete_flow_and_data, and by the library's worker when it
-- starts. A role that does not own the functions cannot replace them: it gets a notice, and its
-- flows keep the generic path, which is correct, only slower. p_wait false: skip when another
-- transaction holds the lock. Returns whether a function changed.
create function pgflow._write_queue_statements(p_wait boolean default true)
returns boolean
language plpgsql
volatile
set search_path to ''
-- The functions it writes are generated, not hand-written: checking their bodies again at each write
-- (compiling a few hundred statements) would only slow every create_flow down.
set check_function_bodies to off
as $$
declare
  c_marker constant text := E'  -- Static statements per queue (pgflow._write_queue_statements).\n';
  v_queues text[];
  v_fn record;
  v_src text;
  v_head int;
  v_tail int;
  v_new text;
  v_changed boolean := false;
begin
  if p_wait then
    perform pg_advisory_xact_lock(hashtext('pgflow:queue-statements'));
  elsif not pg_try_advisory_xact_lock(hashtext('pgflow:queue-statements')) then
    return false;
  end if;
  select coalesce(array_agg(q.flow_slug order by q.flow_slug), '{}') into v_queues
    from (select f.flow_slug from pgflow.flows f
           where exists (select 1 from pg_catalog.pg_class c
                          where c.relnamespace = 'pgmq'::regnamespace and c.relname = 'q_' || lower(f.flow_slug))
             and exists (select 1 from pg_catalog.pg_class c
                          where c.relnamespace = 'pgmq'::regnamespace and c.relname = 'a_' || lower(f.flow_slug))
           order by f.created_at desc, f.flow_slug
           limit 200) q;
  for v_fn in
    select p.oid, p.proname, p.prosrc, t.branch
      from (values
        ('_queue_read', $branch$  if p_queue = %1$L then
    v_visible := array(select v.msg_id from %2$s v where v.vt <= v_now order by v.vt limit p_qty + 20);
    if cardinality(v_visible) < p_qty + 20 then
      return query
        update %2$s q set vt = clock_timestamp() + make_interval(secs => p_vt), read_ct = q.read_ct + 1
         where q.msg_id = any(array(select m.msg_id from %2$s m
                                     where m.msg_id = any(v_visible) and m.vt <= v_now
                                     order by m.msg_id limit p_qty for update skip locked))
        returning q.msg_id;
      return;
    end if;
    return query
      update %2$s q set vt = clock_timestamp() + make_interval(secs => p_vt), read_ct = q.read_ct + 1
       where q.msg_id = any(array(select m.msg_id from %2$s m where m.vt <= clock_timestamp()
                                   order by m.msg_id limit p_qty for update skip locked))
      returning q.msg_id;
    return;
  end if;
$branch$),
        ('_queue_archive', $branch$  if p_queue = %1$L then
    return query
      with moved as (
        delete from %2$s q where q.msg_id = any(p_msg_ids)
        returning q.msg_id, q.read_ct, q.enqueued_at, q.vt, q.message, q.headers)
      insert into %3$s (msg_id, read_ct, enqueued_at, vt, message, headers)
      select moved.msg_id, moved.read_ct, moved.enqueued_at, moved.vt, moved.message, moved.headers
        from moved
      returning msg_id;
    return;
  end if;
$branch$),
        ('_queue_send', $branch$  if p_queue = %1$L then
    return query
      insert into %2$s (vt, message)
      select v_vt, m.message from unnest(p_messages) with ordinality as m(message, n) order by m.n
      returning msg_id;
    return;
  end if;
$branch$),
        ('_queue_has_visible', $branch$  if p_queue = %1$L then
    return query
      select exists (select from %2$s m where m.vt <= v_now);
    return;
  end if;
$branch$)
      ) as t(proname, branch)
      join pg_catalog.pg_proc p on p.proname = t.proname
                               and p.pronamespace = 'pgflow'::regnamespace
  loop
    v_head := strpos(v_fn.prosrc, c_marker);
    if v_head = 0 then
      raise exception 'pgflow.%() has lost its marker line; reinstall it from the migrations.', v_fn.proname;
    end if;
    v_head := v_head + length(c_marker);
    -- The generic call: the function's last "return query".
    v_tail := length(v_fn.prosrc) - strpos(reverse(v_fn.prosrc), reverse('  return query ')) - length('  return query ') + 2;
    v_new := left(v_fn.prosrc, v_head - 1)
          || coalesce((select string_agg(format(v_fn.branch, q, format('pgmq.%I', 'q_' || lower(q)),
                                                format('pgmq.%I', 'a_' || lower(q))), '' order by q)
                         from unnest(v_queues) q), '')
          || substr(v_fn.prosrc, v_tail);
    continue when v_new = v_fn.prosrc;
    begin
      execute replace(pg_catalog.pg_get_functiondef(v_fn.oid), v_fn.prosrc, v_new);
      v_changed := true;
    exception when insufficient_privilege then
      raise notice using
        message = format('pgflow.%s() keeps the queue layer''s generic statements: %s', v_fn.proname, sqlerrm),
        hint = 'Run select pgflow._write_queue_statements() as the owner of the pgflow functions (the role that '
               'ran the migrations); until then the flows'' queues are read through pgmq''s dynamic SQL.';
    end;
  end loop;
  return v_changed;
end;
$$;
