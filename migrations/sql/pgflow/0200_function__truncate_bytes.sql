-- p_text cut to at most p_max_bytes bytes of UTF-8 (never inside a character), with a note of
-- how much was cut; p_text itself when it fits.
create function pgflow._truncate_bytes(p_text text, p_max_bytes int)
returns text
language plpgsql
immutable
set search_path to ''
as $$
declare
  v_note text;
  v_cut text;
begin
  if p_text is null or octet_length(p_text) <= p_max_bytes then
    return p_text;
  end if;
  v_note := format(' ... [truncated: %s bytes in all]', octet_length(p_text));
  v_cut := left(p_text, greatest(p_max_bytes - octet_length(v_note), 0));
  -- A character is 1 to 4 bytes: each round removes at least a quarter of the excess.
  while octet_length(v_cut) > p_max_bytes - octet_length(v_note) loop
    v_cut := left(v_cut, length(v_cut) - greatest(1, (octet_length(v_cut) - (p_max_bytes - octet_length(v_note))) / 4));
  end loop;
  return v_cut || v_note;
end;
$$;
